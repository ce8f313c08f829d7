"""Accounts, memberships, tokens, sessions and hand-overs through services/accounts.py and the
repositories, on a SQLite file and on a real PostgreSQL server alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from cityops.app import import_config
from cityops.domain.access import Membership, Permission, Role
from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import Incident, Status
from cityops.services import accounts, sessions, tokens
from cityops.store import access_repo, handovers_repo, incidents_repo
from cityops.store.db import make_engine, upgrade
from cityops.store.incidents_repo import IncidentFilter
from tests.town import MUNI, NEIGHBOUR, TOWN_YAML, neighbour_yaml

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


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
    import_config(engine, TOWN_YAML, actor="test")
    import_config(engine, neighbour_yaml(tmp_path_factory.mktemp("yaml")), actor="test")
    yield engine
    engine.dispose()


def new_user(db: Engine, name: str = "ivanova") -> int:
    with db.begin() as conn:
        return accounts.create_user(
            conn,
            username=name,
            display_name=name.title(),
            password="twelve chars long",
            installation_admin=False,
            now=NOW,
        )


def test_memberships_are_granted_changed_and_revoked(db: Engine) -> None:
    uid = new_user(db)
    until = NOW + timedelta(days=1)
    liaison = Membership(MUNI, Role.LIAISON, "civil-protection", until, False)
    with db.begin() as conn:
        assert accounts.grant(conn, uid, liaison, granted_by="admin", now=NOW)
        assert not accounts.grant(conn, uid, liaison, granted_by="admin", now=NOW)  # no change
        operator = Membership(MUNI, Role.OPERATOR, None, None, True)
        assert accounts.grant(conn, uid, operator, granted_by="admin", now=NOW)  # an upsert
        assert access_repo.memberships_of(conn, uid) == {MUNI: operator}
        with pytest.raises(accounts.AccountError):
            accounts.grant(
                conn,
                uid,
                Membership(NEIGHBOUR, Role.LIAISON, None, until, False),
                granted_by="admin",
                now=NOW,
            )
        user = access_repo.user_by_id(conn, uid)
        assert user is not None
        me = accounts.principal(conn, user, "session")
    assert me.can(MUNI, Permission.VIDEO_UNMASKED, NOW)  # the flag, with video.view
    assert not me.can(NEIGHBOUR, Permission.INCIDENTS_READ, NOW)
    with db.begin() as conn:
        assert accounts.revoke(conn, uid, MUNI, revoked_by="admin", now=NOW)
        assert not accounts.revoke(conn, uid, MUNI, revoked_by="admin", now=NOW)
        assert access_repo.memberships_of(conn, uid) == {}


def test_sessions_and_tokens_expire_and_are_revoked(db: Engine) -> None:
    uid = new_user(db)
    with db.begin() as conn:
        session = sessions.open_session(conn, uid, via="session", now=NOW, absolute_s=3600)
        token_id, token = tokens.create_token(conn, uid, "gateway", actor="admin", now=NOW)
    with db.begin() as conn:
        found = sessions.principal_for_session(conn, session.cookie, now=NOW, idle_s=600)
        assert found is not None
        assert found[1] == session.csrf
        later = NOW + timedelta(seconds=601)  # idle too long
        assert sessions.principal_for_session(conn, session.cookie, now=later, idle_s=600) is None
        assert access_repo.session_by_digest(conn, accounts.digest(session.cookie)) is None
        assert tokens.principal_for_token(conn, token, now=NOW) is not None
        assert tokens.revoke_token(conn, token_id, actor="admin", now=NOW)
        assert tokens.principal_for_token(conn, token, now=NOW) is None
        assert tokens.principal_for_token(conn, token + "x", now=NOW) is None


def test_handed_over_incidents_are_listed_by_the_neighbour(db: Engine) -> None:
    incident = Incident(
        municipality=MUNI,
        type="flood",
        sector=Sector.DISASTER,
        severity=Severity.SEVERE,
        title="boundary flood",
        created_at=NOW,
        updated_at=NOW,
        status=Status.ACKNOWLEDGED,
        assigned_agency="civil-protection",
    )
    cameras = [{"camera_id": "cam-a", "distance_m": 10.0, "bearing_deg": 0.0}]
    with db.begin() as conn:
        iid = incidents_repo.insert_incident(conn, incident, cameras)
        assert incidents_repo.list_incidents(conn, NEIGHBOUR, IncidentFilter()) == []
        handovers_repo.insert_handover(
            conn, handovers_repo.Handover(iid, MUNI, NEIGHBOUR, "spreading", "Georgiev", NOW)
        )
    with db.connect() as conn:
        (shared,) = incidents_repo.list_incidents(conn, NEIGHBOUR, IncidentFilter())
        assert (shared.incident.id, shared.incident.municipality) == (iid, MUNI)
        assert handovers_repo.shared_with(conn, NEIGHBOUR) == {iid}
        assert handovers_repo.handed_to(conn, iid) == [NEIGHBOUR]
        assert handovers_repo.owner(conn, iid) == (MUNI, "civil-protection")
        assert handovers_repo.agency_cameras(conn, MUNI, "civil-protection") == {"cam-a"}
        assert handovers_repo.agency_cameras(conn, MUNI, "police") == set()
        mine = IncidentFilter(assigned_to="civil-protection")
        assert [r.incident.id for r in incidents_repo.list_incidents(conn, MUNI, mine)] == [iid]
        assert incidents_repo.list_incidents(conn, NEIGHBOUR, mine) == []
