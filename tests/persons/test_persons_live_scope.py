"""Which live feeds get a person's track: LiveScope.of for each role, from the real
membership table (persons.view: admin, supervisor, operator; not analyst, auditor, liaison)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityops.domain.access import Membership, Principal, Role
from cityops.services.access_scope import LiveScope
from cityops.services.live import LiveKind, LiveMessage, PersonPayload
from tests.town import MUNI, NEIGHBOUR, town_db

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
POINT = PersonPayload(
    person_id=1,
    incident_id=4,
    kind="sos",
    ts=NOW,
    lon=25.39,
    lat=42.62,
    accuracy_m=None,
    inside=False,
)


def principal(role: Role) -> Principal:
    agency = "police" if role is Role.LIAISON else None
    until = NOW + timedelta(days=1) if role is Role.LIAISON else None
    membership = Membership(MUNI, role, agency, until, False)
    return Principal(1, "u", "U", {MUNI: membership}, False, "token")


@pytest.mark.parametrize(
    ("role", "gets"),
    [
        (Role.ADMIN, True),
        (Role.SUPERVISOR, True),
        (Role.OPERATOR, True),
        (Role.ANALYST, False),
        (Role.AUDITOR, False),
        (Role.LIAISON, False),
    ],
)
def test_only_persons_view_holders_get_tracks(tmp_path: Path, role: Role, gets: bool) -> None:
    db = town_db(f"sqlite:///{tmp_path / 'c.db'}")
    with db.connect() as conn:
        scope = LiveScope.of(conn, principal(role), MUNI, NOW)
    db.dispose()
    assert scope.admits(LiveMessage(MUNI, LiveKind.PERSON, POINT)) is gets
    assert not scope.admits(LiveMessage(NEIGHBOUR, LiveKind.PERSON, POINT))
