from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.app import ControlCenter
from tests.harness import MosquittoServer
from tests.town import start_center


@pytest.fixture
def center(tmp_path: Path, mosquitto: MosquittoServer) -> Iterator[ControlCenter]:
    """The test town's control center on a real Mosquitto, with a session of its own."""
    cc = start_center(
        tmp_path, mqtt_url=mosquitto.url, mqtt_client_id=f"cityops-test-{uuid.uuid4().hex[:8]}"
    )
    yield cc
    cc.stop()
