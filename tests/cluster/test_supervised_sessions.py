"""The supervised Mosquitto (`cityops serve` with CITYOPS_INGEST=external and the ingest
secret, bus/supervisor.py) writes the partition users itself and makes the session of every
partition no member took yet, as `cityops mqtt sync` does (docs/SCALING.md "A new partition's
session"): readings published before any member runs are stored once when one starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.supervisor import SupervisedMosquitto
from tests.cluster.conftest import TOWNS, _unavailable
from tests.cluster.secured import SECRET
from tests.cluster.support import Member, Publisher, check_exactly_once, wait_for, wait_until_stored
from tests.harness import LOOPBACK, free_port, mosquitto_unavailable_reason

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def supervised(
    db: Engine, prefix: str, gateways: dict[str, tuple[str, str]], tmp_path: Path
) -> Iterator[SupervisedMosquitto]:
    """Started once the towns and their gateways' credentials exist, as a server would be."""
    if reason := mosquitto_unavailable_reason():
        _unavailable(reason)
    binary = find_mosquitto()
    assert binary is not None
    broker = SupervisedMosquitto(
        binary,
        tmp_path / "broker",
        db,
        host=LOOPBACK,
        port=free_port(),
        ingest_secret=SECRET,
        client_prefix=prefix,
        refresh_s=0.5,
    )
    broker.start()  # the credentials and partition users written, launched, sessions made
    yield broker
    broker.stop()


def test_readings_before_any_member_are_kept_by_the_supervised_broker(
    supervised: SupervisedMosquitto,
    cluster_db: str,
    prefix: str,
    gateways: dict[str, tuple[str, str]],
    db: Engine,
    tmp_path: Path,
) -> None:
    publisher = Publisher(supervised.port, TOWNS, episodes=1, rate=150, credentials=gateways)
    publisher.start()
    member = Member("m0", cluster_db, supervised.url, tmp_path / "m0", prefix,
                    {"CITYOPS_INGEST_SECRET": SECRET})  # fmt: skip
    try:
        assert publisher.done.wait(60)
        wait_for(lambda: len(publisher.acked) >= publisher.total, 60, "every PUBACK, no member")
        member.start()
        wait_until_stored(db, publisher, 90)
        check_exactly_once(db, publisher)
        assert "refused" not in member.log_tail(), member.log_tail()
    finally:
        publisher.stop()
        assert member.stop() == 0, member.log_tail()
