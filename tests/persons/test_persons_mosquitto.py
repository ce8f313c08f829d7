"""A person's device on a real, secured Mosquitto: its `tracker` credential comes from
`cityops devices create --kind tracker` and `cityops mqtt sync` (the real commands), it may
publish its own device's position and SOS and nothing else, and what it publishes opens the
episode through the control center's ingest (logged in with its own credential)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.cli import app
from cityops.domain.devices import DeviceKind
from cityops.mqtt_url import with_credentials
from cityops.services import persons
from cityops.settings import Settings
from cityops.store import tables as t
from cityops.store.db import make_engine
from cityops.store.tables_persons import person_positions
from tests.e2e.acl_support import Device, issue, scope, start, wait_for
from tests.harness import MosquittoServer, mosquitto_unavailable_reason
from tests.persons.conftest import OUTSIDE, child
from tests.town import MUNI, town_db

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    if reason := mosquitto_unavailable_reason():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with MosquittoServer(secured=True, max_queued_messages=1_000_000) as server:
        yield server


def cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_tracker_on_mosquitto_publishes_only_its_own_device(
    tmp_path: Path, broker: MosquittoServer
) -> None:
    url = f"sqlite:///{(tmp_path / 'cityops.db').as_posix()}"
    town_db(url).dispose()
    env = {"CITYOPS_DATABASE_URL": url, "CITYOPS_DATA_DIR": str(tmp_path)}
    engine = make_engine(url)
    ingest = issue(engine, scope("ingest", DeviceKind.INGEST, None))
    engine.dispose()
    # a person's device id is checked against no sensor or camera
    out = cli(
        env, "devices", "create", "maria-watch", "--kind", "tracker", "-m", MUNI, "-d", "tracker-1"
    )
    username = re.search(r"username: (\S+)", out)
    secret = re.search(r"secret:\s+(\S+)", out)
    assert username is not None
    assert secret is not None
    cli(
        env,
        "mqtt",
        "sync",
        "--password-file",
        str(broker.password_path),
        "--acl-file",
        str(broker.acl_path),
        "--pid-file",
        str(broker.pid_path),
    )
    acl = broker.acl_path.read_text()
    assert f"topic write cityops/{MUNI}/persons/tracker-1/sos" in acl
    assert "topic read cityops/+/persons/+/position" in acl

    def logs_in() -> bool:
        probe = Device(broker.host, broker.port, *ingest)
        ok = probe.connect()
        if ok:
            probe.stop()
        return ok

    wait_for(logs_in, 10, "Mosquitto to reload its files")
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        mqtt_url=with_credentials(broker.url, *ingest),
        camera_probe_s=0,
        video_worker=False,
        log_level="WARNING",
    )
    center = start(settings)
    try:
        assert center.pipeline is not None
        rt = center.pipeline.runtimes[MUNI]
        with center.db.begin() as conn:
            now = datetime.now(UTC)
            maria = persons.register(conn, rt, child(), actor="test", now=now)
            persons.register(conn, rt, child("tracker-2", "Other"), actor="test", now=now)
        dev = Device(broker.host, broker.port, username[1], secret[1], client_id=username[1])
        assert dev.connect()
        doc = {"lon": OUTSIDE.lon, "lat": OUTSIDE.lat, "ts": datetime.now(UTC).isoformat()}
        dev.publish(f"cityops/{MUNI}/persons/tracker-2/sos", json.dumps(doc))  # not its own
        dev.publish(f"cityops/{MUNI}/persons/tracker-1/position", json.dumps(doc))
        dev.stop()

        def opened() -> bool:
            with center.db.connect() as conn:
                q = select(t.incidents.c.dedup_key)
                return list(conn.execute(q).scalars()) == [f"sos|{maria.id}"]

        wait_for(opened, 10, "the episode's incident")
        with center.db.connect() as conn:  # the forbidden SOS came before: it never arrived
            q = select(person_positions.c.person_id, func.count())
            rows = conn.execute(q.group_by(person_positions.c.person_id)).all()
        assert {int(p): int(n) for p, n in rows} == {maria.id: 1}
    finally:
        center.stop()
