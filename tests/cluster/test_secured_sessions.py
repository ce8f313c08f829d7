"""Partition sessions on a secured Mosquitto (docs/SCALING.md "A new partition's session",
"A refused partition login"): `cityops mqtt sync` makes the broker session of every partition no
member took yet, so readings sent before any member runs are queued and stored once; it never
takes a session a member holds; a member whose partition login is refused says so in the
server's /health, per partition, until the login succeeds."""

from __future__ import annotations

import pytest

from cityops.app import ControlCenter
from tests.cluster.conftest import TOWNS
from tests.cluster.secured import Rig, reload, sync
from tests.cluster.support import (
    check_exactly_once,
    health,
    owners,
    stored_readings,
    wait_for,
    wait_until_stored,
)

pytestmark = pytest.mark.timeout(180)


def test_readings_sent_before_any_member_ran_are_queued_and_stored_once(rig: Rig) -> None:
    out = sync(rig.broker, rig.db_url, rig.prefix)
    assert f"partition sessions: {len(TOWNS)} made, 0 already" in out, out
    assert set(owners(rig.db)) == set(TOWNS)  # the partitions exist, unowned
    assert set(owners(rig.db).values()) == {None}
    publisher = rig.publish(episodes=1)
    assert publisher.done.wait(60)
    wait_for(lambda: len(publisher.acked) >= publisher.total, 60, "every PUBACK, no member yet")
    assert stored_readings(rig.db) == []
    again = sync(rig.broker, rig.db_url, rig.prefix)  # nothing to make; nothing disturbed
    assert f"0 made, {len(TOWNS)} already in the broker" in again, again
    (member,) = rig.start_members(1)
    rig.holding_all()
    wait_until_stored(rig.db, publisher, 90)
    check_exactly_once(rig.db, publisher)
    held = sync(rig.broker, rig.db_url, rig.prefix)  # a member holds them all: left alone
    assert f"0 made, 0 already in the broker, {len(TOWNS)} held by members" in held, held
    rig.warm_up()  # the member still consumes every partition
    assert "taken over by another process" not in member.log_tail(), member.log_tail()


def test_without_a_pid_file_sync_names_the_sessions_to_make_after_the_reload(rig: Rig) -> None:
    """`sync && systemctl reload mosquitto` must reach the reload: the users are written, the
    broker does not know them yet, so the sync says which sessions wait and succeeds."""
    out = sync(rig.broker, rig.db_url, rig.prefix, pid_file=False)
    assert f"{len(TOWNS)} ingest partition users" in out, out
    assert "no session yet for town1, town2" in out, out
    assert "reload Mosquitto, then run the sync again" in out, out
    reload(rig.broker)
    again = sync(rig.broker, rig.db_url, rig.prefix, pid_file=False)
    assert f"partition sessions: {len(TOWNS)} made" in again, again


def test_a_refused_partition_login_shows_in_health_until_it_succeeds(
    rig: Rig, server: ControlCenter
) -> None:
    """The member runs before `cityops mqtt sync` wrote its partition users: every login is
    refused. /health says so per partition; once synced, the member's sessions get in."""
    (member,) = rig.start_members(1)
    rig.holding_all()

    def refused() -> dict[str, str]:
        found: dict[str, str] = health(server)["partitions_refused"]
        return found

    wait_for(lambda: set(refused()) == set(TOWNS), 60, "every partition's refusal in /health")
    now = health(server)
    assert now["status"] == "degraded"
    assert "ingest_partition_login_refused" in now["reasons"]
    assert "ingest_partitions_unowned" not in now["reasons"]  # held, yet not consuming
    assert all(why.startswith("partition login refused: ") for why in refused().values())
    sync(rig.broker, rig.db_url, rig.prefix)
    wait_for(lambda: not refused(), 60, "the refusals to clear once the users exist")
    after = health(server)
    assert "ingest_partition_login_refused" not in after["reasons"], after
    rig.warm_up()
    assert member.stop() == 0, member.log_tail()
