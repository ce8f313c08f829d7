"""Device credentials on a real Mosquitto (the Debian 12 package, 2.0.11), secured as
docs/MQTT.md "Authentication and ACLs" says: the password and ACL files come from
`cityops mqtt sync` (run through the real command), which also makes Mosquitto reload them;
the control center's ingest logs in with an ingest credential of its own (MQTT 5)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cityops.cli import app
from cityops.domain.devices import DeviceKind
from cityops.mqtt_url import with_credentials
from cityops.settings import Settings
from cityops.store.db import make_engine
from tests.e2e import acl_scenarios as scenario
from tests.e2e.acl_support import Device, issue, scope, start, two_towns, wait_for
from tests.harness import MosquittoServer, mosquitto_unavailable_reason

pytestmark = pytest.mark.mosquitto


def sync(broker: MosquittoServer, env: dict[str, str]) -> str:
    """`cityops mqtt sync` against ``broker``'s files and pid file; its output."""
    args = ["mqtt", "sync", "--password-file", str(broker.password_path)]
    args += ["--acl-file", str(broker.acl_path), "--pid-file", str(broker.pid_path)]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def logs_in(broker: MosquittoServer, username: str, secret: str) -> bool:
    probe = Device(broker.host, broker.port, username, secret)
    ok = probe.connect()
    if ok:
        probe.stop()
    return ok


@pytest.fixture(scope="module")
def broker() -> Iterator[MosquittoServer]:
    """A secured Mosquitto with a finite queue limit, as docs/MQTT.md advises (with
    max_queued_messages 0, Mosquitto 2.0.11 disconnects a client whose QoS 1 publish the ACL
    denies)."""
    if reason := mosquitto_unavailable_reason():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with MosquittoServer(secured=True, max_queued_messages=1_000_000) as server:
        yield server


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, broker: MosquittoServer
) -> Iterator[scenario.World]:
    data = tmp_path_factory.mktemp("acl-mosquitto")
    url = two_towns(data)
    env = {"CITYOPS_DATABASE_URL": url, "CITYOPS_DATA_DIR": str(data)}
    engine = make_engine(url)
    ingest = issue(engine, scope("ingest", DeviceKind.INGEST, None))
    creds = scenario.standard_credentials(engine)
    engine.dispose()
    assert "9 credentials written" in sync(broker, env)
    # SIGHUP is handled asynchronously: wait until the ingest's credential is known
    wait_for(lambda: logs_in(broker, *ingest), 10, "the reload")
    settings = Settings(
        data_dir=data,
        database_url=url,
        mqtt_url=with_credentials(broker.url, *ingest),
        camera_probe_s=0,
        video_worker=False,
    )
    center = start(settings)

    def apply() -> None:
        sync(broker, env)
        time.sleep(0.5)  # SIGHUP is handled asynchronously

    yield scenario.World(center, broker.host, broker.port, creds, apply, False)
    center.stop()


def test_the_generated_files(world: scenario.World, broker: MosquittoServer) -> None:
    """What Mosquitto was given: hashes, never secrets; a user block per credential with only
    its grants; and the ingest's client id is its username (no one else's)."""
    passwd = broker.password_path.read_text()
    users = [line.split(":", 1)[0] for line in passwd.splitlines()]
    assert set(users) >= {"_all.ingest", *(u for u, _ in world.creds.values())}
    assert all(line.split(":", 1)[1].startswith("$7$") for line in passwd.splitlines())
    assert not any(secret in passwd for _, secret in world.creds.values())
    acl = broker.acl_path.read_text().split("\n\n")
    block = next(b for b in acl if "user testtown.river1\n" in b)
    assert block.splitlines()[2:] == ["topic write cityops/testtown/sensors/river-1/readings"]
    assert world.center.mqtt is not None
    assert world.center.mqtt.client_id == "_all.ingest"


def test_a_device_publishes_only_its_own_topics(world: scenario.World) -> None:
    scenario.publishes_only_its_own_topics(world)


def test_a_device_reads_nothing_of_another_municipality(world: scenario.World) -> None:
    scenario.reads_nothing_of_another_municipality(world)


def test_anonymous_and_wrong_secrets_are_refused(world: scenario.World) -> None:
    scenario.anonymous_and_wrong_secrets_are_refused(world)


def test_a_revoked_credential_is_refused_after_sync(world: scenario.World) -> None:
    scenario.a_revoked_credential_is_refused(world)


def test_the_ingest_session_cannot_be_taken_over(world: scenario.World) -> None:
    scenario.the_ingest_session_cannot_be_taken_over(world)


def test_workers_and_simulators_use_their_credentials(world: scenario.World) -> None:
    scenario.workers_and_simulators_use_their_credentials(world)


def test_a_frigate_publishes_under_its_prefix_only(world: scenario.World) -> None:
    scenario.a_frigate_publishes_under_its_prefix_only(world)
