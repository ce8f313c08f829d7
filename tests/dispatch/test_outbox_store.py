"""The outbox's rows on SQLite and PostgreSQL: one delivery per channel, written in the
dispatch's transaction (gone with a rollback); one claim wins; a replayed acknowledgment is
refused by its unique signature without spoiling the transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cityops.domain.dispatch import AgencyChannels, Channel, DeliveryStatus
from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import Incident
from cityops.store import dispatch_repo, incidents_repo
from tests.dispatch.support import WHERE
from tests.town import MUNI, T0, town_config, town_db


def test_outbox_rows_claims_and_acks(db_url: str) -> None:
    db = town_db(db_url)
    config = town_config()
    channels = AgencyChannels(
        agency="police",
        webhook_url="https://cad.example/in",
        secret_env="X_SECRET",
        email_to=("a@police.example", "b@police.example"),
    )
    config = replace(config, dispatch=(channels,))
    incident = Incident(MUNI, "fire", Sector.SAFETY, Severity.SEVERE, "Fire", T0, WHERE)
    with db.begin() as conn:
        incident.id = incidents_repo.insert_incident(conn, incident, [])

    def dispatch_then_fail() -> None:
        with db.begin() as conn:
            dispatch_repo.enqueue_dispatch(conn, config, incident, "police", T0)
            raise RuntimeError("the dispatch failed after its deliveries were written")

    with pytest.raises(RuntimeError):
        dispatch_then_fail()
    with db.connect() as conn:
        assert dispatch_repo.for_incident(conn, MUNI, incident.id) == []
    with db.begin() as conn:
        ids = dispatch_repo.enqueue_dispatch(conn, config, incident, "police", T0)
        assert dispatch_repo.enqueue_dispatch(conn, config, incident, "fire", T0) == []
    with db.connect() as conn:
        rows = dispatch_repo.for_incident(conn, MUNI, incident.id)
        due = dispatch_repo.due(conn, T0)
        assert dispatch_repo.due(conn, T0 - timedelta(seconds=1)) == []
    assert [r.id for r in rows] == ids
    assert [(r.channel, r.target) for r in rows] == [
        (Channel.WEBHOOK, "https://cad.example/in"),
        (Channel.EMAIL, "a@police.example"),
        (Channel.EMAIL, "b@police.example"),
    ]
    assert rows[0].payload["incident"]["location"]["geo"] == "geo:42.619400,25.392500"
    assert [d.id for d in due] == ids
    with db.begin() as conn:
        assert dispatch_repo.claim(conn, due[0], T0, lease_s=60)
        assert not dispatch_repo.claim(conn, due[0], T0, lease_s=60)  # someone has it
    with db.begin() as conn:
        dispatch_repo.finish_try(
            conn,
            ids[0],
            status=DeliveryStatus.SENT,
            attempts=1,
            next_at=T0,
            error=None,
            sent_at=T0,
        )
    with db.connect() as conn:
        assert [d.id for d in dispatch_repo.due(conn, T0 + timedelta(hours=1))] == ids[1:]
        sent = dispatch_repo.get(conn, MUNI, ids[0])
        assert dispatch_repo.get(conn, "nexttown", ids[0]) is None
    assert sent is not None
    assert sent.status is DeliveryStatus.SENT
    with db.begin() as conn:
        for expected in (True, False):  # the second time: a replay
            stored = dispatch_repo.record_ack(
                conn, sent, signature="v1=abc", via="webhook", reference="R-1", note=None, now=T0
            )
            assert stored is expected
        # the transaction is still usable after the refused insert
        assert dispatch_repo.get(conn, MUNI, ids[0]) is not None
    with db.connect() as conn:
        acked = dispatch_repo.get(conn, MUNI, ids[0])
    assert acked is not None
    assert acked.acknowledged_at == T0
    db.dispose()
