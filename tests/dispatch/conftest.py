from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from tests.dispatch.receivers import Mailbox, WebhookReceiver, smtp_server, webhook_receiver
from tests.dispatch.support import (
    POLICE_SECRET,
    PUBLIC_URL,
    SECRET,
    SECRET_ENV,
    dispatch_yaml,
)
from tests.town import api_client, start_center

FAST = {
    "dispatch_poll_s": 0.05,
    "dispatch_backoff_s": 0.05,
    "dispatch_backoff_cap_s": 0.2,
    "dispatch_max_attempts": 4,
    "public_url": PUBLIC_URL,
}


@dataclass
class Setup:
    center: ControlCenter
    client: TestClient
    webhooks: WebhookReceiver
    mailbox: Mailbox
    data_dir: Path
    yaml: Path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    data = tmp_path_factory.mktemp("dispatch")
    secret_file = data / "police.secret"
    secret_file.write_text(POLICE_SECRET + "\n", encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv(SECRET_ENV, SECRET)
    with webhook_receiver() as hooks, smtp_server() as (port, box):
        yaml = dispatch_yaml(data, hooks.url, secret_file)
        center = start_center(
            data, with_mqtt=False, also=[yaml], smtp_host="127.0.0.1", smtp_port=port, **FAST
        )
        try:
            with api_client(center) as client:
                yield Setup(center, client, hooks, box, data, yaml)
        finally:
            center.stop()
            mp.undo()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The outbox on a SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'cityops.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
