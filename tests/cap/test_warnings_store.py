"""The two tables of public warnings on SQLite and on a real PostgreSQL: received warnings
(put, ended once, what is still in force, what was seen) and the CAP out outbox (enqueued,
due, claimed once, finished, listed per incident)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from cityops.domain.dispatch import DeliveryStatus
from cityops.domain.warnings import CapEndpoint, EndpointKind
from cityops.store import cap_deliveries_repo, warnings_repo
from cityops.store.db import make_engine, upgrade
from cityops.store.warnings_repo import StoredWarning

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
XML = "<alert>Наводнение &amp; дъжд</alert>".encode()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cityops.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _stored(identifier: str, replaces: tuple[tuple[str, str], ...] = ()) -> StoredWarning:
    return StoredWarning("ops@x.bg", identifier, XML, "absent", 25.4, 42.62, replaces)


def test_received_warnings(db: Engine) -> None:
    with db.begin() as conn:
        warnings_repo.put(conn, "tt", _stored("a1"), NOW, NOW)
        warnings_repo.put(conn, "tt", _stored("a1"), NOW, NOW)  # the same again: one row
        warnings_repo.put(conn, "other", _stored("a1"), NOW, NOW)  # another municipality's
        warnings_repo.put(conn, "tt", _stored("a2", (("ops@x.bg", "a1"),)), NOW, NOW)
        warnings_repo.put(conn, "tt", _stored("b1"), NOW, NOW)
    with db.connect() as conn:
        open_here = warnings_repo.open_rows(conn, "tt")
        assert [w.identifier for w in open_here] == ["a2", "b1"]  # a1 replaced by a2
        assert open_here[0].replaces == (("ops@x.bg", "a1"),)
        assert open_here[0].xml == XML
        assert [w.identifier for w in warnings_repo.open_rows(conn, "other")] == ["a1"]
        assert warnings_repo.seen_keys(conn, "tt", 10) == [
            ("ops@x.bg", "a1"),
            ("ops@x.bg", "a2"),
            ("ops@x.bg", "b1"),
        ]
        assert warnings_repo.seen_keys(conn, "tt", 2) == [("ops@x.bg", "a2"), ("ops@x.bg", "b1")]
    with db.begin() as conn:
        assert warnings_repo.end(conn, "tt", [("ops@x.bg", "b1")], "cancelled", NOW) == 1
        assert warnings_repo.end(conn, "tt", [("ops@x.bg", "b1")], "expired", NOW) == 0
        assert warnings_repo.end(conn, "tt", [], "expired", NOW) == 0
    with db.connect() as conn:
        assert [w.identifier for w in warnings_repo.open_rows(conn, "tt")] == ["a2"]


def test_the_outbox(db: Engine) -> None:
    endpoints = [
        CapEndpoint("bg-alert", "https://cp.example/r", EndpointKind.BG_ALERT, "X_SECRET"),
        CapEndpoint("mirror", "https://m.example/cap", EndpointKind.CAP_POST),
    ]
    with db.begin() as conn:
        ids = cap_deliveries_repo.enqueue(
            conn, "tt", 7, "cityops.tt.incident-7.1", "Alert", endpoints, "Petrova", NOW
        )
    assert len(ids) == 2
    with db.connect() as conn:
        due = cap_deliveries_repo.due(conn, NOW)
    assert [(d.endpoint, d.kind, d.status) for d in due] == [
        ("bg-alert", EndpointKind.BG_ALERT, DeliveryStatus.PENDING),
        ("mirror", EndpointKind.CAP_POST, DeliveryStatus.PENDING),
    ]
    with db.begin() as conn:
        assert cap_deliveries_repo.claim(conn, due[0], NOW, 60)
        assert not cap_deliveries_repo.claim(conn, due[0], NOW, 60)  # taken: not twice
    with db.connect() as conn:
        assert [d.endpoint for d in cap_deliveries_repo.due(conn, NOW)] == ["mirror"]
    later = NOW + timedelta(seconds=5)
    with db.begin() as conn:
        cap_deliveries_repo.finish_try(
            conn,
            ids[0],
            status=DeliveryStatus.SENT,
            attempts=1,
            next_at=later,
            error=None,
            sent_at=later,
        )
        cap_deliveries_repo.finish_try(
            conn,
            ids[1],
            status=DeliveryStatus.RETRYING,
            attempts=1,
            next_at=later,
            error="HTTP 500" * 100,
            sent_at=None,
        )
    with db.connect() as conn:
        assert cap_deliveries_repo.due(conn, NOW) == []
        assert [d.endpoint for d in cap_deliveries_repo.due(conn, later)] == ["mirror"]
        listed = cap_deliveries_repo.for_incident(conn, "tt", 7)
        assert cap_deliveries_repo.for_incident(conn, "other", 7) == []
    assert [(d.status, d.sent_at, d.requested_by, d.msg_type) for d in listed] == [
        (DeliveryStatus.SENT, later, "Petrova", "Alert"),
        (DeliveryStatus.RETRYING, None, "Petrova", "Alert"),
    ]
    assert listed[1].last_error is not None
    assert len(listed[1].last_error) == 500
