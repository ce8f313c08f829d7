"""Location requests over HTTP, end to end on a running control center: a liaison's token posts
a place, a type and a case number; the incident, the cameras and the share are made and
answered; bad requests get their 4xx, are counted, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.domain.agency_requests import Refusal
from cityops.domain.audit import AuditAction
from cityops.services import agency_requests, shares
from cityops.store import audit_repo
from cityops.store import incidents_repo as repo
from cityops.store import tables as t
from tests.agency.support import CROSSING, FAR, URL, body, requests_yaml
from tests.town import MUNI, account, api_client, start_center


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlCenter]:
    data = tmp_path_factory.mktemp("agency-http")
    cc = start_center(data, with_mqtt=False, also=[requests_yaml(data)])
    yield cc
    cc.stop()


def liaison(center: ControlCenter, agency: str | None) -> str:
    return account(
        center.db,
        role=Role.LIAISON,
        agency=agency,
        installation_admin=False,
        display_name=f"{agency} system",
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )


@pytest.fixture(scope="module")
def police(center: ControlCenter) -> Iterator[TestClient]:
    with api_client(center, liaison(center, "police")) as client:
        yield client


def incident_count(center: ControlCenter) -> int:
    with center.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.incidents)).scalar_one())


def audit_of(center: ControlCenter, action: AuditAction) -> list[Any]:
    with center.db.connect() as conn:
        return [r for r in audit_repo.chain_records(conn, MUNI) if r.action == action.value]


def test_a_request_opens_the_incident_shares_the_cameras_and_answers_the_link(
    center: ControlCenter, police: TestClient
) -> None:
    before = incident_count(center)
    r = police.post(URL, json=body("112-2026-0001", note="two men, dark car", request_id="m-1"))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["ok"] is True
    assert got["case"] == "112-2026-0001"
    assert got["request_id"] == "m-1"
    assert got["incident_created"] is True
    assert sorted(got["cameras"]) == ["cam-a", "cam-b"]  # both look at the crossing
    assert got["answered_ms"] < 1000
    assert incident_count(center) == before + 1
    now = datetime.now(UTC)
    expires = datetime.fromisoformat(got["expires_at"])
    assert timedelta(minutes=29) < expires - now <= timedelta(minutes=30)  # police: for 30min
    with center.db.connect() as conn:
        record = repo.get_incident(conn, MUNI, got["incident_id"])
        assert record is not None
        inc = record.incident
        assert (inc.type, inc.sector.value, inc.severity.value) == ("robbery", "safety", "severe")
        assert inc.proposed_agency == "police"
        assert inc.dedup_key == "agency-request|police|112-2026-0001"
        assert inc.location is not None
        assert (inc.location.lon, inc.location.lat) == (
            CROSSING["lon"],
            CROSSING["lat"],
        )
        assert inc.title == "police request 112-2026-0001: Robbery"
        assert inc.title_local == "police 112-2026-0001: Грабеж"
        assert "two men, dark car" in inc.timeline[0].text
        assert {c["camera_id"] for c in record.cameras} == {"cam-a", "cam-b"}
        share = shares.by_token(conn, got["link"].split("#", 1)[1], now)  # the link really opens
        assert share is not None
        assert share.id == got["share_id"]
        assert share.origin is shares.ShareOrigin.REQUEST
        assert (share.agency, share.purpose, share.incident_id) == ("police", "robbery", inc.id)
        assert share.radius_m == 250.0
        assert [s.id for s in shares.for_incident(conn, MUNI, inc.id or 0)] == [share.id]
    assert got["link"].startswith(center.settings.public_url.rstrip("/") + "/share.html#")
    request_audit = audit_of(center, AuditAction.AGENCY_REQUEST)[-1]
    assert request_audit.target == f"incident:{got['incident_id']}"
    assert request_audit.detail["case"] == "112-2026-0001"
    assert request_audit.detail["via"] == "http"
    assert request_audit.detail["share"] == got["share_id"]
    assert request_audit.actor.startswith("user-")  # the liaison account's username
    assert audit_of(center, AuditAction.SHARE_CREATED)[-1].target == f"share:{got['share_id']}"


def test_the_same_case_again_joins_its_incident_with_a_share_of_its_own(
    center: ControlCenter, police: TestClient
) -> None:
    first = police.post(URL, json=body("112-2026-0002")).json()
    again = police.post(URL, json=body("112-2026-0002", lon=25.3926)).json()
    other = police.post(URL, json=body("112-2026-0003")).json()
    assert again["incident_id"] == first["incident_id"]
    assert again["incident_created"] is False
    assert again["share_id"] != first["share_id"]
    assert again["link"] != first["link"]
    assert other["incident_id"] != first["incident_id"]
    assert other["incident_created"] is True
    with center.db.connect() as conn:
        record = repo.get_incident(conn, MUNI, first["incident_id"])
        assert record is not None
        texts = [e.text for e in record.incident.timeline]
        assert sum("location request, case 112-2026-0002" in x for x in texts) == 2
        made = {s.id: s for s in shares.for_incident(conn, MUNI, first["incident_id"])}
        assert set(made) == {first["share_id"], again["share_id"]}
        assert made[again["share_id"]].place.lon == 25.3926  # the repeat's own place
        assert record.incident.location is not None
        assert record.incident.location.lon == CROSSING["lon"]  # the incident keeps its first


def test_the_incident_reaches_the_live_feed(center: ControlCenter, police: TestClient) -> None:
    seen: list[Any] = []
    stop = center.live.subscribe(seen.extend)
    try:
        got = police.post(URL, json=body("112-2026-0004")).json()
    finally:
        stop()
    assert [(m.kind.value, m.payload.id) for m in seen if m.kind.value == "incident"] == [
        ("incident", got["incident_id"])
    ]


REFUSED: list[tuple[str, Any, int, str]] = [
    ("outside", body("112-x-1", **FAR), 422, "outside"),
    ("unknown type", body("112-x-2", type="jaywalking"), 422, "unknown_type"),
    ("another agency's type", body("112-x-3", type="traffic-accident"), 422, "unknown_type"),
    ("missing case", {k: v for k, v in body().items() if k != "case"}, 422, "missing_case"),
    ("empty case", body("  "), 422, "missing_case"),
    ("case with a slash", body("112/4"), 422, "bad_case"),
    ("wrong agency", body("112-x-4", agency="traffic-police"), 403, "wrong_agency"),
    ("latitude out of range", body("112-x-5", lat=91), 422, "malformed"),
    ("a string for a number", body("112-x-6", lon="25.39"), 422, "malformed"),
    ("not an object", [body()], 422, "malformed"),
]


@pytest.mark.parametrize(("what", "sent", "status", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bad_request_gets_a_clear_4xx_is_counted_and_changes_nothing(
    center: ControlCenter, police: TestClient, what: str, sent: Any, status: int, reason: str
) -> None:
    before, counted = incident_count(center), agency_requests.COUNTS.snapshot().get(reason, 0)
    r = police.post(URL, json=sent)
    assert r.status_code == status, r.text
    got = r.json()
    assert (got["ok"], got["status"], got["reason"]) == (False, status, reason)
    assert got["detail"]  # in words
    assert incident_count(center) == before
    assert agency_requests.COUNTS.snapshot()[reason] == counted + 1


def test_the_refusal_names_what_is_wrong(police: TestClient) -> None:
    got = police.post(URL, json=body("112-x-7", type="jaywalking")).json()
    assert (
        got["detail"] == "type 'jaywalking' is not one police may request here (allowed: robbery)"
    )
    assert got["case"] == "112-x-7"
    far = police.post(URL, json=body("112-x-8", **FAR)).json()
    assert "outside Test Town" in far["detail"]
    bad = police.post(URL, content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.json()["detail"] == "the body is not UTF-8 JSON"


def test_an_agency_that_may_not_request_is_refused(center: ControlCenter) -> None:
    with api_client(center, liaison(center, "civil-protection")) as client:
        r = client.post(URL, json=body("cp-1"))
    assert (r.status_code, r.json()["reason"]) == (403, "agency_not_allowed")
    assert audit_of(center, AuditAction.AGENCY_REQUEST)[-1].detail["refused"] == (
        "agency_not_allowed"
    )


def test_each_agency_gets_its_own_incident_for_the_same_case_number(
    center: ControlCenter, police: TestClient
) -> None:
    with api_client(center, liaison(center, "traffic-police")) as traffic:
        r = traffic.post(URL, json=body("112-2026-0001", type="traffic-accident"))
    assert r.status_code == 201, r.text
    mine = police.post(URL, json=body("112-2026-0001")).json()
    assert r.json()["incident_id"] != mine["incident_id"]
    with center.db.connect() as conn:
        record = repo.get_incident(conn, MUNI, r.json()["incident_id"])
        assert record is not None
        assert record.incident.sector.value == "transport"


def test_operators_cannot_post_requests_and_the_counts_are_in_the_metrics(
    center: ControlCenter,
) -> None:
    with api_client(center) as admin:  # an admin: no agency.request
        assert admin.post(URL, json=body("adm-1")).status_code == 403
        metrics = admin.get("/api/v1/metrics").json()
    assert metrics["agency_requests"]["answered"] >= 1
    assert metrics["agency_requests"]["outside"] >= 1


def test_requests_without_configuration_are_refused(tmp_path: Path) -> None:
    """The test town as shipped has sharing: but no requests: every agency is refused."""
    cc = start_center(tmp_path, with_mqtt=False)
    try:
        with api_client(cc, liaison(cc, "police")) as client:
            r = client.post(URL, json=body("unconfigured-1"))
        assert (r.status_code, r.json()["reason"]) == (403, "agency_not_allowed")
    finally:
        cc.stop()


FIELDS = st.sampled_from(["case", "type", "lon", "lat", "agency", "note", "request_id", "x"])
VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80)
    | st.sampled_from(["robbery", "police", "traffic-police", "112-fz-1", 25.3925, 42.6194])
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=st.dictionaries(FIELDS, VALUES, max_size=8))
def test_whatever_is_posted_the_answer_is_201_or_a_counted_4xx(
    center: ControlCenter, police: TestClient, doc: dict[str, Any]
) -> None:
    before, counted = incident_count(center), sum(agency_requests.COUNTS.snapshot().values())
    r = police.post(URL, json=doc)
    got = r.json()
    assert sum(agency_requests.COUNTS.snapshot().values()) == counted + 1
    if r.status_code == 201:
        assert got["ok"] is True
        assert got["case"] == doc["case"]
        return
    assert 400 <= r.status_code < 500, r.text
    assert (got["ok"], got["status"]) == (False, r.status_code)
    assert got["reason"] in {x.value for x in Refusal}
    assert incident_count(center) == before
