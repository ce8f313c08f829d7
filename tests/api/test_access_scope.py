"""What each principal sees inside a municipality: a liaison only its agency's incidents and
their cameras, for the time of its membership; a neighbouring municipality only what was handed
over to it, in the same timeline; the operator of every entry is the logged-in account."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import Incident, Status
from cityops.store import incidents_repo
from cityops.store.tables_audit import audit_log
from tests.town import MUNI, NEIGHBOUR, api_client, neighbour_yaml, start_center

AGENCY = "civil-protection"


def put_incident(
    db: Engine,
    title: str,
    *,
    municipality: str = MUNI,
    agency: str | None = None,
    cameras: Sequence[str] = (),
    status: Status = Status.ACKNOWLEDGED,
) -> int:
    now = datetime.now(UTC)
    incident = Incident(
        municipality=municipality,
        type="flood",
        sector=Sector.DISASTER,
        severity=Severity.SEVERE,
        title=title,
        created_at=now,
        updated_at=now,
        status=status,
        assigned_agency=agency,
    )
    seen = [{"camera_id": c, "distance_m": 50.0, "bearing_deg": 90.0} for c in cameras]
    with db.begin() as conn:
        return incidents_repo.insert_incident(conn, incident, seen)


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = start_center(tmp_path, with_mqtt=False, also=[neighbour_yaml(tmp_path)])
    yield cc
    cc.stop()


def base(municipality: str = MUNI) -> str:
    return f"/api/v1/m/{municipality}"


def liaison(center: ControlCenter, expires_in: timedelta = timedelta(hours=8)) -> Any:
    """A logged-in client of a fire-brigade liaison of the test town (a context manager)."""
    return api_client(
        center,
        display_name="Fire brigade liaison",
        role=Role.LIAISON,
        agency=AGENCY,
        expires_at=datetime.now(UTC) + expires_in,
        installation_admin=False,
    )


def test_a_liaison_sees_only_its_agencys_incidents_and_their_cameras(
    center: ControlCenter,
) -> None:
    ours = put_incident(center.db, "ours", agency=AGENCY, cameras=["cam-a"])
    theirs = put_incident(center.db, "police's", agency="police", cameras=["cam-b"])
    closed = put_incident(center.db, "ours, closed", agency=AGENCY, cameras=["cam-b"])
    with center.db.begin() as conn:  # closed: still listed, its camera no longer shown
        record = incidents_repo.get_incident(conn, MUNI, closed)
        assert record is not None
        record.incident.status = Status.CLOSED
        incidents_repo.save_incident(conn, record.incident, [])
    with liaison(center) as client:
        listed = {i["id"] for i in client.get(f"{base()}/incidents").json()}
        assert listed == {ours, closed}
        assert client.get(f"{base()}/incidents/{ours}").json()["actions"] == ["note"]
        assert client.get(f"{base()}/incidents/{theirs}").status_code == 404
        assert [c["id"] for c in client.get(f"{base()}/cameras").json()] == ["cam-a"]
        assert client.get(f"{base()}/sensors").json() == []
        assert client.get(f"{base()}/sensors/river-1/readings").status_code == 404
        note = client.post(f"{base()}/incidents/{ours}/notes", json={"text": "crew of 4 ready"})
        assert note.status_code == 200
        assert note.json()["timeline"][-1]["actor"] == "Fire brigade liaison"
        refused = client.post(f"{base()}/incidents/{theirs}/notes", json={"text": "x"})
        assert refused.status_code == 404
        assert client.post(f"{base()}/incidents/{ours}/resolve").status_code == 403
        me = client.get("/api/v1/auth/me").json()
        assert me["memberships"][0]["agency"] == AGENCY


def test_a_liaison_past_its_end_gets_nothing(center: ControlCenter) -> None:
    ours = put_incident(center.db, "ours", agency=AGENCY, cameras=["cam-a"])
    with liaison(center, expires_in=timedelta(seconds=1.0)) as client:
        assert client.get(f"{base()}/incidents/{ours}").status_code == 200
        time.sleep(1.1)
        for path in ("/incidents", f"/incidents/{ours}", "/cameras", "/live"):
            r = client.get(base() + path)
            assert r.status_code == 404, path
            assert r.json()["detail"] == f"unknown municipality {MUNI!r}"
        assert client.get("/api/v1/config").json()["municipalities"] == []
        assert client.get("/api/v1/auth/me").json()["memberships"] == []


def audit_of(center: ControlCenter, chain: str) -> list[tuple[str, str | None, str | None]]:
    with center.db.connect() as conn:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.chain == chain).order_by(audit_log.c.seq)
        )
        return [(r.action, r.target, r.reason) for r in rows]


def test_a_hand_over_shows_the_incident_to_the_neighbour_in_one_timeline(
    center: ControlCenter,
) -> None:
    fire = put_incident(center.db, "forest fire at the boundary")
    url, there = f"{base()}/incidents/{fire}", f"{base(NEIGHBOUR)}/incidents/{fire}"
    with (
        api_client(center, display_name="Supervisor Georgiev", role=Role.SUPERVISOR) as home,
        api_client(
            center, display_name="Next Town duty", role=Role.OPERATOR, municipality=NEIGHBOUR
        ) as neighbour,
    ):
        assert neighbour.get(there).status_code == 404  # not handed over yet
        assert neighbour.get(f"{base(NEIGHBOUR)}/incidents").json() == []
        assert home.post(f"{url}/handover", json={"to": MUNI, "reason": "x"}).status_code == 422
        assert (
            home.post(f"{url}/handover", json={"to": "atlantis", "reason": "x"}).status_code == 422
        )

        reason = "the fire crossed into Next Town"
        r = home.post(f"{url}/handover", json={"to": NEIGHBOUR, "reason": reason})
        assert r.status_code == 200, r.text
        entry = r.json()["timeline"][-1]
        assert (entry["kind"], entry["actor"], entry["text"]) == (
            "handover",
            "Supervisor Georgiev",
            reason,
        )
        assert entry["data"] == {"from": MUNI, "to": NEIGHBOUR}
        again = home.post(f"{url}/handover", json={"to": NEIGHBOUR, "reason": reason})
        assert again.status_code == 409

        (listed,) = neighbour.get(f"{base(NEIGHBOUR)}/incidents").json()
        assert (listed["id"], listed["municipality"]) == (fire, MUNI)
        seen = neighbour.get(there).json()
        assert seen["timeline"] == r.json()["timeline"]  # the same timeline, both sides
        assert seen["actions"] == ["note"]  # what the neighbour may do with it
        assert listed["actions"] == ["note"]
        assert "resolve" in home.get(url).json()["actions"]
        noted = neighbour.post(f"{there}/notes", json={"text": "our brigade is on its way"})
        assert noted.status_code == 200
        assert neighbour.post(f"{there}/resolve").status_code == 409  # moves stay at home
        back_home = home.get(url).json()["timeline"]
        assert [(e["kind"], e["actor"]) for e in back_home[-2:]] == [
            ("handover", "Supervisor Georgiev"),
            ("note", "Next Town duty"),
        ]
        assert neighbour.get(f"{base(NEIGHBOUR)}/incidents/{fire + 1000}").status_code == 404
    there_actions = [a for a in audit_of(center, NEIGHBOUR) if a[1] == f"incident:{fire}"]
    assert there_actions == [("incident.handover", f"incident:{fire}", reason)]
    home_actions = [a for a in audit_of(center, MUNI) if a[1] == f"incident:{fire}"]
    assert home_actions == [  # the hand-over, then the neighbour's note (recorded at home)
        ("incident.handover", f"incident:{fire}", reason),
        ("incident.action", f"incident:{fire}", None),
    ]


def test_an_operator_cannot_hand_over_and_an_analyst_cannot_act(center: ControlCenter) -> None:
    fire = put_incident(center.db, "fire")
    url = f"{base()}/incidents/{fire}"
    with api_client(center, role=Role.OPERATOR, installation_admin=False) as operator:
        r = operator.post(f"{url}/handover", json={"to": NEIGHBOUR, "reason": "x"})
        assert r.status_code == 403
    with api_client(center, role=Role.ANALYST, installation_admin=False) as analyst:
        assert analyst.get(url).json()["actions"] == []  # read-only
        assert [i["actions"] for i in analyst.get(f"{base()}/incidents").json()] == [[]]
        assert analyst.post(f"{url}/notes", json={"text": "x"}).status_code == 403
        assert analyst.post(f"{url}/resolve").status_code == 403
