"""Agency shares over HTTP: a link works before expiry and shows only the shared cameras (masked),
is refused after expiry or revocation, and every use is in the audit; a share of another
municipality is unreachable; a liaison of the agency sees the shared cameras while the share is
active; an open live view ends when its share does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.store import shares_repo
from cityops.store.basemap_repo import save_basemap
from cityops.store.tables_audit import audit_log
from tests.api.test_video_access import corner
from tests.town import MUNI, NEIGHBOUR, account, api_client, neighbour_yaml, start_center

SCHOOL = {"lon": 25.3950, "lat": 42.6210}
"""Only cam-school (with a privacy mask in its top-left corner) sees it."""
ACCESS = "/api/v1/share-access"


@pytest.fixture
def center(tmp_path: Path, clip: Path) -> Iterator[ControlCenter]:
    cc = start_center(
        tmp_path,
        with_mqtt=False,
        demo_video_dir=clip.parent,
        also=[neighbour_yaml(tmp_path)],
        public_url="https://cityops.example",
    )
    yield cc
    cc.stop()


@pytest.fixture
def operator(center: ControlCenter) -> Iterator[TestClient]:
    token = account(center.db, "ivanova", role=Role.OPERATOR, installation_admin=False)
    with api_client(center, token) as c:
        yield c


def share(client: TestClient, mid: str = MUNI, **body: Any) -> dict[str, Any]:
    payload = {"agency": "police", "purpose": "robbery", "minutes": 30} | SCHOOL | body
    r = client.post(f"/api/v1/m/{mid}/shares", json=payload)
    assert r.status_code == 201, r.text
    found: dict[str, Any] = r.json()
    return found


def token_of(made: dict[str, Any]) -> str:
    link = str(made["link"])
    assert link.startswith("https://cityops.example/share.html#")
    return link.rpartition("#")[2]


def audit(center: ControlCenter) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with center.db.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.actor, audit_log.c.target, audit_log.c.detail)
            .where(audit_log.c.action.like("share.%") | audit_log.c.action.like("video.%"))
            .order_by(audit_log.c.at, audit_log.c.seq)
        )
        return [(r.action, r.actor, r.target, dict(r.detail)) for r in rows]


def test_a_link_shows_only_its_cameras_until_it_is_revoked(
    center: ControlCenter, operator: TestClient
) -> None:
    made = share(operator)
    sid, actor = made["id"], f"share:{made['id']}:police"
    assert (made["cameras"], made["status"], made["created_by"]) == (
        ["cam-school"],
        "active",
        "ivanova",
    )
    with TestClient(create_api(center)) as agency:  # no account: the link is the credential
        r = agency.post(ACCESS, json={"token": token_of(made)})
        assert r.status_code == 200, r.text
        body = r.json()
        assert "created_by" not in body["share"]
        assert [c["id"] for c in body["cameras"]] == ["cam-school"]
        assert body["incident"] is None
        assert "httponly" in r.headers["set-cookie"].lower()
        assert "path=/api/v1/share-access" in r.headers["set-cookie"].lower()
        assert agency.get(ACCESS).json()["share"]["id"] == sid  # the cookie, after a reload
        shot = agency.get(f"{ACCESS}/cameras/cam-school/snapshot.jpg")
        assert shot.status_code == 200
        assert shot.headers["content-type"] == "image/jpeg"
        assert corner(shot.content) < 20  # masked
        assert agency.get(f"{ACCESS}/cameras/cam-a/snapshot.jpg").status_code == 404
        assert agency.get(f"{ACCESS}/cameras/no-such/live.mjpg").status_code == 404
        with agency.stream("GET", f"{ACCESS}/cameras/cam-school/live.mjpg") as live:
            assert live.status_code == 200
            assert b"Content-Type: image/jpeg" in next(live.iter_bytes())
        # nothing else: the console's routes do not take the share's cookie
        assert agency.get(f"/api/v1/m/{MUNI}/cameras/cam-school/snapshot").status_code == 401
        assert agency.get(f"/api/v1/m/{MUNI}/incidents").status_code == 401
        r = operator.post(f"/api/v1/m/{MUNI}/shares/{sid}/revoke", json={"reason": "case closed"})
        assert r.json()["status"] == "revoked"
        for answer in (
            agency.get(ACCESS),
            agency.get(f"{ACCESS}/cameras/cam-school/snapshot.jpg"),
            agency.post(ACCESS, json={"token": token_of(made)}),
        ):
            assert (answer.status_code, answer.json()["detail"]) == (410, "revoked")
    assert [(a, who, target) for a, who, target, _ in audit(center)] == [
        ("share.created", "ivanova", f"share:{sid}"),
        ("share.opened", actor, f"share:{sid}"),
        ("share.opened", actor, f"share:{sid}"),
        ("video.snapshot", actor, "cam-school"),
        ("video.live", actor, "cam-school"),
        ("share.changed", "ivanova", f"share:{sid}"),
    ]
    views = [d for a, _, _, d in audit(center) if a.startswith("video.")]
    assert all(d["via"] == "share" and d["share"] == sid and not d["unmasked"] for d in views)
    used = [d for a, _, _, d in audit(center) if a.startswith("video.") or a == "share.opened"]
    assert {d["client"] for d in used} == {"testclient"}  # the recipient's address, each use


def test_an_expired_or_unknown_link_is_refused(center: ControlCenter, operator: TestClient) -> None:
    made = share(operator)
    with TestClient(create_api(center)) as agency:
        assert agency.get(ACCESS).status_code == 401  # no cookie yet
        assert agency.post(ACCESS, json={}).status_code == 401
        assert agency.post(ACCESS, json={"token": "A" * 43}).status_code == 404
        assert agency.post(ACCESS, json={"token": token_of(made)}).status_code == 200
        with center.db.begin() as conn:  # time passes
            shares_repo.set_expiry(conn, made["id"], datetime.now(UTC) - timedelta(seconds=1))
        for answer in (agency.get(ACCESS), agency.get(f"{ACCESS}/cameras/cam-school/snapshot.jpg")):
            assert (answer.status_code, answer.json()["detail"]) == (410, "expired")
    listed = operator.get(f"/api/v1/m/{MUNI}/shares").json()
    assert [(s["id"], s["status"]) for s in listed] == [(made["id"], "expired")]
    assert operator.get(f"/api/v1/m/{MUNI}/shares", params={"active": "true"}).json() == []
    r = operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/extend", json={"minutes": 10})
    assert (r.status_code, r.json()["detail"]) == (422, "the share is expired")


def test_an_open_live_view_ends_when_its_share_is_revoked(
    center: ControlCenter, operator: TestClient
) -> None:
    made = share(operator)
    with TestClient(create_api(center)) as agency:
        assert agency.post(ACCESS, json={"token": token_of(made)}).status_code == 200
        with agency.stream("GET", f"{ACCESS}/cameras/cam-school/live.mjpg") as live:
            chunks = live.iter_bytes()
            next(chunks)
            r = operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/revoke", json={})
            assert r.status_code == 200
            revoked = time.monotonic()
            for _ in chunks:  # the stream ends by itself
                assert time.monotonic() - revoked < 15, "the live view outlived its share"
        assert time.monotonic() - revoked < 15


def test_operators_share_an_incident_extend_it_and_read_the_policy(
    center: ControlCenter, operator: TestClient
) -> None:
    from cityops.services.incidents import apply_trigger
    from tests.shares.test_shares_service import accident

    rt = center.runtimes[MUNI]
    with center.db.begin() as conn:
        change = apply_trigger(conn, rt, accident(rt), datetime.now(UTC))
    assert change is not None
    url = f"/api/v1/m/{MUNI}/incidents/{change.incident_id}"
    policy = operator.get(f"/api/v1/m/{MUNI}/sharing").json()
    assert [p["id"] for p in policy["purposes"]][:2] == ["traffic-accident", "robbery"]
    assert (policy["default_minutes"], policy["max_minutes"]) == (60, 360)
    assert (policy["radius_m"], policy["max_radius_m"]) == (200, 2000)
    assert "police" in [a["id"] for a in policy["agencies"]]
    r = operator.post(
        f"{url}/shares", json={"agency": "traffic-police", "purpose": "traffic-accident"}
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (sorted(made["cameras"]), made["incident_id"]) == (
        ["cam-a", "cam-b"],
        change.incident_id,
    )
    created = datetime.fromisoformat(made["created_at"])
    assert datetime.fromisoformat(made["expires_at"]) - created == timedelta(minutes=60)
    r = operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/extend", json={"minutes": 120})
    assert r.status_code == 200
    assert datetime.fromisoformat(r.json()["expires_at"]) > created + timedelta(minutes=119)
    r = operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/extend", json={"minutes": 400})
    assert r.status_code == 422
    assert [s["id"] for s in operator.get(f"{url}/shares").json()] == [made["id"]]
    timeline = operator.get(url).json()["timeline"]
    assert [e["data"]["op"] for e in timeline if e["kind"] == "share"] == ["created", "extended"]
    bad = operator.post(f"{url}/shares", json={"agency": "police", "purpose": "gossip"})
    assert (bad.status_code, bad.json()["detail"]) == (422, "unknown purpose 'gossip'")
    assert (
        operator.post(
            f"/api/v1/m/{MUNI}/incidents/99999/shares",
            json={"agency": "police", "purpose": "robbery"},
        ).status_code
        == 404
    )
    fresh = operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/link")
    assert fresh.status_code == 200
    with TestClient(create_api(center)) as agency:
        assert agency.post(ACCESS, json={"token": token_of(made)}).status_code == 404  # replaced
        opened = agency.post(ACCESS, json={"token": token_of(fresh.json())})
        assert opened.status_code == 200
        assert opened.json()["incident"]["type"] == "traffic_accident"


def test_another_municipalitys_share_is_unreachable(
    center: ControlCenter, operator: TestClient
) -> None:
    both = account(center.db, "both", role=Role.OPERATOR, municipality=[MUNI, NEIGHBOUR])
    with api_client(center, both) as c:
        theirs = share(c, NEIGHBOUR)
    sid = theirs["id"]
    assert operator.get(f"/api/v1/m/{MUNI}/shares").json() == []
    assert operator.get(f"/api/v1/m/{NEIGHBOUR}/shares").status_code == 404
    for op, body in (("revoke", {}), ("extend", {"minutes": 5}), ("link", None)):
        r = operator.post(f"/api/v1/m/{MUNI}/shares/{sid}/{op}", json=body)
        assert r.status_code == 404, op
    until = datetime.now(UTC) + timedelta(days=1)
    liaison = account(
        center.db, role=Role.LIAISON, agency="police", expires_at=until, installation_admin=False
    )
    with api_client(center, liaison) as c:  # the police liaison of the test town: not next town's
        assert c.get(f"/api/v1/m/{MUNI}/cameras/cam-school/snapshot").status_code == 404


def test_a_liaison_sees_its_agencys_shared_cameras_while_the_share_is_active(
    center: ControlCenter, operator: TestClient
) -> None:
    until = datetime.now(UTC) + timedelta(days=1)
    police = account(
        center.db, role=Role.LIAISON, agency="police", expires_at=until, installation_admin=False
    )
    traffic = account(
        center.db,
        role=Role.LIAISON,
        agency="traffic-police",
        expires_at=until,
        installation_admin=False,
    )
    snap = f"/api/v1/m/{MUNI}/cameras/cam-school/snapshot"
    with api_client(center, police) as p, api_client(center, traffic) as t:
        assert p.get(snap).status_code == 404
        made = share(operator)
        assert p.get(snap).status_code == 200
        assert corner(p.get(snap).content) < 20
        assert p.get(f"/api/v1/m/{MUNI}/cameras/cam-a/snapshot").status_code == 404
        assert t.get(snap).status_code == 404  # another agency
        operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/revoke", json={})
        assert p.get(snap).status_code == 404


def test_the_recipient_gets_the_base_map_around_the_share_only(
    center: ControlCenter, operator: TestClient
) -> None:
    def road(name: str, *points: tuple[float, float]) -> dict[str, Any]:
        line = {"type": "LineString", "coordinates": [list(p) for p in points]}
        return {"type": "Feature", "properties": {"name": name}, "geometry": line}

    near = road("School street", (25.3940, 42.6200), (25.3960, 42.6215))
    across = road("Long road", (25.3000, 42.6212), (25.5000, 42.6212))  # passes by the school
    far = road("Far lane", (25.4500, 42.6500), (25.4510, 42.6510))
    with center.db.begin() as conn:
        save_basemap(
            conn,
            MUNI,
            layers={"roads": {"type": "FeatureCollection", "features": [near, across, far]}},
            bounds=[25.3, 42.6, 25.5, 42.66],
            source_name="test",
            now=datetime.now(UTC),
        )
    made = share(operator, radius_m=100)
    with TestClient(create_api(center)) as agency:
        assert agency.get(f"{ACCESS}/basemap").status_code == 401
        assert agency.post(ACCESS, json={"token": token_of(made)}).status_code == 200
        got = agency.get(f"{ACCESS}/basemap").json()
        names = [f["properties"]["name"] for f in got["layers"]["roads"]["features"]]
        assert names == ["School street", "Long road"]
        west, south, east, north = got["bounds"]
        assert west < SCHOOL["lon"] < east
        assert south < SCHOOL["lat"] < north
        assert 0.01 < north - south < 0.012  # 2 x 600 m
        operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/revoke", json={})
        assert agency.get(f"{ACCESS}/basemap").status_code == 410


def test_the_page_polls_the_status_without_an_audit_record_and_follows_an_extension(
    center: ControlCenter, operator: TestClient
) -> None:
    made = share(operator, minutes=10)
    with TestClient(create_api(center)) as agency:
        body = agency.post(ACCESS, json={"token": token_of(made)}).json()
        assert (body["agency_name"], body["purpose_label"], body["purpose_label_local"]) == (
            "Police 112",
            "Robbery",
            "Грабеж",
        )
        first = agency.get(f"{ACCESS}/status")
        polled = first.json()
        assert (polled["status"], polled["cameras"]) == ("active", ["cam-school"])
        expiry = datetime.fromisoformat(made["expires_at"])
        assert datetime.fromisoformat(polled["expires_at"]) == expiry
        before = len(audit(center))
        operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/extend", json={"minutes": 120})
        later = agency.get(f"{ACCESS}/status")
        assert later.status_code == 200
        assert datetime.fromisoformat(later.json()["expires_at"]) > expiry
        max_age = int(later.headers["set-cookie"].lower().split("max-age=")[1].split(";")[0])
        assert 119 * 60 < max_age <= 120 * 60  # the cookie lasts as long as the share now does
        assert len(audit(center)) == before + 1  # the extension; the polls left no record
        operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/revoke", json={})
        gone = agency.get(f"{ACCESS}/status")
        assert (gone.status_code, gone.json()["detail"]) == (410, "revoked")


def test_a_liaison_reads_its_agencys_active_shares_with_their_incident(
    center: ControlCenter, operator: TestClient
) -> None:
    from cityops.services.incidents import apply_trigger
    from tests.shares.test_shares_service import accident

    rt = center.runtimes[MUNI]
    with center.db.begin() as conn:
        change = apply_trigger(conn, rt, accident(rt), datetime.now(UTC))
    assert change is not None
    url = f"/api/v1/m/{MUNI}/incidents/{change.incident_id}/shares"
    made = operator.post(url, json={"agency": "police", "purpose": "robbery"}).json()
    share(operator, agency="traffic-police")  # another agency's: not listed
    until = datetime.now(UTC) + timedelta(days=1)
    police = account(
        center.db, role=Role.LIAISON, agency="police", expires_at=until, installation_admin=False
    )
    with api_client(center, police) as p:
        listed = p.get(f"/api/v1/m/{MUNI}/agency/shares").json()
        assert [(s["share"]["id"], s["incident"]["type"]) for s in listed] == [
            (made["id"], "traffic_accident")
        ]
        assert sorted(c["id"] for c in listed[0]["cameras"]) == ["cam-a", "cam-b"]
        assert "created_by" not in listed[0]["share"]
        operator.post(f"/api/v1/m/{MUNI}/shares/{made['id']}/revoke", json={})
        assert p.get(f"/api/v1/m/{MUNI}/agency/shares").json() == []
    assert operator.get(f"/api/v1/m/{MUNI}/agency/shares").json() == []  # no agency of its own
