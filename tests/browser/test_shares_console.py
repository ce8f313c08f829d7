"""Agency shares in headless Chromium against a real server on Mosquitto: an operator shares an
incident with an agency from the incident panel in one click; the agency opens the link in
another browser (no account), the token leaves the address bar, it sees the incident, the map
and only the shared cameras' pictures, the time ticking; the operator extends, then revokes, and
the agency's page says so. Also the screens of a missing, invalid and expired link, and a role
without shares.manage that is offered nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from cityops.api.app import STATIC
from cityops.domain.access import Role
from cityops.domain.entities import LonLat
from cityops.services import shares
from cityops.store.basemap_repo import save_basemap
from cityops.store.tables_audit import audit_log
from tests.browser.chromium import new_page
from tests.browser.conftest import sign_in
from tests.browser.test_console import auth, open_console, queue_item
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.town import MUNI, TOWN_YAML

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

ACCIDENT = "Possible traffic accident"
TOKEN = re.compile(r"#([A-Za-z0-9_-]{40,})$")
CSP_WATCH = (
    "window.__csp = [];"
    " document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)
IMAGE_SHOWN = (
    '(id) => { const i = document.querySelector(`[data-camera="${id}"] img`);'
    " return Boolean(i && i.complete && i.naturalWidth > 0); }"
)


CROSSING = LonLat(25.3925, 42.6194)
"""Where cam-a (from the west) and cam-b (from the north) look; cam-school does not see it."""


def publish_accident(publish: Any) -> None:
    """Three events on the crossing from its two cameras within a minute: rule accident opens
    "Possible traffic accident" at the crossing."""
    now = datetime.now(UTC)
    for i, (camera, kind) in enumerate(
        [("cam-a", "collision"), ("cam-b", "stopped_vehicle"), ("cam-a", "crowd")]
    ):
        event = {
            "id": f"{camera}-{now.timestamp():.0f}-{i}",
            "kind": kind,
            "confidence": 0.9,
            "ts": (now - timedelta(seconds=40 - 10 * i)).isoformat(),
            "lon": CROSSING.lon,
            "lat": CROSSING.lat,
        }
        publish(f"cityops/{MUNI}/cameras/{camera}/events", event)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def text(lang: str, key: str) -> str:
    value: str = json.loads((STATIC / "i18n" / f"{lang}.json").read_text("utf-8"))[key]
    return value


@pytest.fixture
def video_server(
    tmp_path: Path, mosquitto: MosquittoServer, shared_data: Path
) -> Iterator[LiveServer]:
    """The test town with recorded clips standing in for its cameras (snapshots and live views)."""
    with LiveServer(tmp_path, mosquitto.url, [TOWN_YAML], video_dir=shared_data / "video") as s:
        assert s.center is not None
        road = {
            "type": "Feature",
            "properties": {"class": "primary", "name": "Crossing road"},
            "geometry": {
                "type": "LineString",
                "coordinates": [[25.390, 42.6194], [25.395, 42.6194]],
            },
        }
        with s.center.db.begin() as conn:
            save_basemap(
                conn,
                MUNI,
                layers={"roads": {"type": "FeatureCollection", "features": [road]}},
                bounds=[25.38, 42.61, 25.40, 42.63],
                source_name="test",
                now=datetime.now(UTC),
            )
        yield s


@pytest.fixture
def recipient(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A browser context of its own: the agency's, nobody signed in, its CSP violations kept."""
    p, errors = new_page(browser)
    p.add_init_script(CSP_WATCH)
    yield p, errors
    p.context.close()


def api_shares(server: LiveServer, incident_id: int) -> list[dict[str, Any]]:
    answer = httpx.get(
        server.api(f"/m/{MUNI}/incidents/{incident_id}/shares"), headers=auth(server), timeout=5
    )
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()
    return result


def audited(server: LiveServer, action: str) -> list[tuple[str, str | None, Any]]:
    assert server.center is not None
    with server.center.db.connect() as conn:
        q = select(audit_log.c.actor, audit_log.c.target, audit_log.c.detail)
        rows = conn.execute(q.where(audit_log.c.action == action))
        return [(r.actor, r.target, r.detail) for r in rows]


def share_from_the_panel(page: Page, server: LiveServer, publish: Any) -> tuple[int, str]:
    """The operator opens the accident and shares it with traffic police in one click: the
    incident's id and the link shown."""
    open_console(page, server)
    publish_accident(publish)
    item = queue_item(page, ACCIDENT)
    expect(item).to_have_count(1, timeout=10_000)
    item.click()
    head = page.get_by_test_id("incident-head")
    expect(head).to_be_visible()
    incident_id = int(head.get_attribute("data-incident-id") or 0)
    form = page.get_by_test_id("share-new")
    # the proposed agency of the accident rule is preselected; the first purpose, the default time
    expect(form.get_by_test_id("share-agency")).to_have_value("traffic-police")
    expect(form.get_by_test_id("share-purpose")).to_have_value("traffic-accident")
    expect(form.get_by_test_id("share-minutes")).to_have_value("60")
    # the policy's radius (200 m) holds both cameras that see the crossing
    expect(form.get_by_test_id("share-radius")).to_have_value("200")
    expect(form.get_by_test_id("share-hint")).to_have_attribute("data-cameras", "2")
    expect(page.get_by_test_id("shares-list").get_by_test_id("share")).to_have_count(0)
    form.get_by_test_id("share-submit").click()
    link = page.get_by_test_id("share-link-input")
    expect(link).to_have_value(TOKEN)
    return incident_id, link.input_value()


def agency_opens(agency: Page, server: LiveServer, link: str, shared: set[str]) -> str:
    """The agency opens the link in a browser of its own and sees the share: the token gone
    from the address bar, only the shared cameras, their pictures, the map, the time ticking;
    the live view of one camera (its id is returned) plays."""
    token = TOKEN.search(link)
    assert token is not None
    agency.goto(f"{server.url}/share.html#{token.group(1)}")
    expect(agency.get_by_test_id("share-view")).to_be_visible()
    assert token.group(1) not in agency.url, "the token stays in the address bar"
    assert agency.evaluate("location.hash") == ""
    cards = agency.get_by_test_id("shared-camera")
    expect(cards).to_have_count(len(shared))
    assert {c.get_attribute("data-camera") for c in cards.all()} == shared
    for camera in shared:
        agency.wait_for_function(IMAGE_SHOWN, arg=camera, timeout=15_000)
    # the agency's names in the page's language (Bulgarian by default), the map on the base map
    expect(agency.locator("#share-badges")).to_contain_text("Traffic Police")
    expect(agency.locator("#share-facts")).to_contain_text(text("bg", "share.purpose"))
    expect(agency.locator("#share-facts")).to_contain_text("Пътнотранспортно произшествие")
    share_map = agency.get_by_test_id("share-map")
    expect(share_map).to_have_attribute("data-cameras", str(len(shared)))
    expect(share_map).to_have_attribute("data-basemap", "true")
    expect(share_map.locator(".leaflet-basemap-pane canvas")).to_have_count(1)
    # the time left ticks down from about an hour
    first = int(agency.get_by_test_id("share-left").get_attribute("data-seconds") or 0)
    assert 3500 < first <= 3600
    agency.wait_for_function(
        f"() => Number(document.getElementById('share-left').dataset.seconds) < {first}"
    )
    # a camera it was not given is refused to it, whatever it asks
    refused = agency.request.get(server.api("/share-access/cameras/cam-school/snapshot.jpg"))
    assert refused.status == 404
    camera = sorted(shared)[0]
    card = agency.locator(f'[data-camera="{camera}"]')
    card.get_by_test_id("live-toggle").click()
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"/live\.mjpg$"))
    agency.wait_for_function(IMAGE_SHOWN, arg=camera, timeout=15_000)
    return camera


def test_operator_shares_the_agency_sees_only_the_shared_cameras_until_revoked(
    video_server: LiveServer,
    fresh_page: Page,
    recipient: tuple[Page, list[str]],
    publish: Any,
    shot: Callable[[Page, str], Any],
) -> None:
    server = video_server
    page = fresh_page
    sign_in(page, server)
    incident_id, link = share_from_the_panel(page, server, publish)
    row = page.get_by_test_id("shares-list").get_by_test_id("share")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "active")
    [stored] = api_shares(server, incident_id)
    assert (stored["agency"], stored["purpose"]) == ("traffic-police", "traffic-accident")
    shared = set(stored["cameras"])
    assert shared, "the accident on the crossing is seen by its cameras"
    assert "cam-school" not in shared  # the school yard does not see the crossing
    expect(row).to_contain_text(f"{len(shared)} cameras")
    shot(page, "operator-shared")

    agency, errors = recipient
    camera = agency_opens(agency, server, link, shared)
    shot(agency, "agency-view")
    # a reload needs no token: the share's cookie carries it
    agency.reload()
    expect(agency.get_by_test_id("shared-camera")).to_have_count(len(shared))
    assert agency.evaluate("window.__csp") == []
    # every use is audited under the share's name: each open (the link, the reload) once
    actor = f"share:{stored['id']}:traffic-police"
    assert [a for a, _t, _d in audited(server, "share.opened")] == [actor, actor]
    assert any(a == actor for a, _t, _d in audited(server, "video.snapshot"))
    assert any(a == actor for a, _t, _d in audited(server, "video.live"))

    # the operator keeps it for 2 h from now: the agency's page shows the new end at its next check
    row.get_by_test_id("share-extend-by").select_option("120")
    row.get_by_test_id("share-extend").click()
    agency.wait_for_function(
        "() => Number(document.getElementById('share-left').dataset.seconds) > 7000",
        timeout=15_000,
    )
    # the page's checks of the share's status are no opens
    assert len(audited(server, "share.opened")) == 2

    # the operator revokes it (two clicks: ask, then confirm); the agency's page says so
    revoke = row.get_by_test_id("share-revoke")
    revoke.click()
    expect(revoke).to_have_attribute("data-armed", "true")
    revoke.click()
    expect(row).to_have_attribute("data-status", "revoked")
    assert api_shares(server, incident_id)[0]["status"] == "revoked"
    screen = agency.get_by_test_id("share-screen")
    expect(screen).to_have_attribute("data-reason", "revoked", timeout=15_000)
    expect(screen.locator("h1")).to_have_text(text("bg", "share.revoked_title"))
    expect(agency.get_by_test_id("share-view")).to_be_hidden()
    expect(agency.locator("#share-cam-grid img")).to_have_count(0)  # the live view was ended
    agency.get_by_role("button", name="EN").click()
    expect(screen.locator("h1")).to_have_text(text("en", "share.revoked_title"))
    shot(agency, "agency-revoked")
    gone = agency.request.get(server.api(f"/share-access/cameras/{camera}/snapshot.jpg"))
    assert gone.status in (404, 410)
    assert errors == []


def test_a_new_link_replaces_the_old_one(
    server: LiveServer, fresh_page: Page, publish: Any
) -> None:
    """An operator whose link went astray makes a new one: shown once, the old one dead."""
    sign_in(fresh_page, server)
    _incident, first = share_from_the_panel(fresh_page, server, publish)
    row = fresh_page.get_by_test_id("shares-list").get_by_test_id("share")
    row.get_by_test_id("share-relink").click()
    link = fresh_page.get_by_test_id("share-link-input")
    expect(link).not_to_have_value(first)
    expect(link).to_have_value(TOKEN)
    second = link.input_value()
    old, new = (TOKEN.search(x) for x in (first, second))
    assert old is not None
    assert new is not None
    access = server.api("/share-access")
    assert httpx.post(access, json={"token": old.group(1)}, timeout=5).status_code == 404
    assert httpx.post(access, json={"token": new.group(1)}, timeout=5).status_code == 200
    expect(row).to_have_attribute("data-status", "active")


def test_an_unreachable_server_is_retried_with_the_token_kept_in_memory(
    server: LiveServer, recipient: tuple[Page, list[str]]
) -> None:
    """The first exchange finds no server: the page says so and offers a retry; the token is
    already gone from the address bar, yet the retry opens the share."""
    assert server.center is not None
    with server.center.db.begin() as conn:
        made = shares.create(
            conn,
            server.center.runtimes[MUNI],
            agency="police",
            purpose="robbery",
            minutes=30,
            actor="test",
            now=datetime.now(UTC),
            public_url=server.url,
            place=CROSSING,
            radius_m=200,
        )
    agency, errors = recipient
    agency.route("**/api/v1/share-access", lambda route: route.abort())
    agency.goto(f"{server.url}/share.html#{made.token}")
    screen = agency.get_by_test_id("share-screen")
    expect(screen).to_have_attribute("data-reason", "unavailable")
    assert made.token not in agency.url
    agency.unroute("**/api/v1/share-access")
    agency.get_by_role("button", name=text("bg", "share.retry")).click()
    expect(agency.get_by_test_id("share-view")).to_be_visible()
    expect(agency.get_by_test_id("shared-camera")).to_have_count(len(made.share.cameras))
    assert errors == []


def test_missing_invalid_and_expired_links_say_so(
    server: LiveServer, recipient: tuple[Page, list[str]]
) -> None:
    agency, errors = recipient
    screen = agency.get_by_test_id("share-screen")
    agency.goto(f"{server.url}/share.html")
    expect(screen).to_have_attribute("data-reason", "missing")
    agency.goto(f"{server.url}/share.html#{'x' * 43}")
    expect(screen).to_have_attribute("data-reason", "invalid")
    assert "#" not in agency.url

    # a share that ended an hour ago, made through the service as an operator would have
    assert server.center is not None
    rt = server.center.runtimes[MUNI]
    past = datetime.now(UTC) - timedelta(hours=2)
    with server.center.db.begin() as conn:
        made = shares.create(
            conn,
            rt,
            agency="police",
            purpose="robbery",
            minutes=60,
            actor="test",
            now=past,
            public_url=server.url,
            place=CROSSING,
            radius_m=200,
        )
    agency.goto(f"{server.url}/share.html#{made.token}")
    expect(screen).to_have_attribute("data-reason", "expired")
    expect(screen.locator("h1")).to_have_text(text("bg", "share.expired_title"))
    expect(agency.get_by_test_id("share-view")).to_be_hidden()
    assert errors == []


def test_an_analyst_is_offered_no_sharing(
    server: LiveServer, fresh_page: Page, publish: Any
) -> None:
    """An analyst reads incidents but has no shares.manage: neither the form nor the list."""
    sign_in(fresh_page, server, "analyst", role=Role.ANALYST)
    open_console(fresh_page, server)
    publish_accident(publish)
    item = queue_item(fresh_page, ACCIDENT)
    expect(item).to_have_count(1, timeout=10_000)
    item.click()
    expect(fresh_page.get_by_test_id("incident-head")).to_be_visible()
    expect(fresh_page.get_by_test_id("incident-status")).to_be_visible()
    expect(fresh_page.locator("#details .loading-line")).to_have_count(0)
    expect(fresh_page.get_by_test_id("shares-list")).to_have_count(0)
    expect(fresh_page.get_by_test_id("share-new")).to_have_count(0)


def test_a_liaison_sees_what_is_shared_with_its_agency(
    server: LiveServer, fresh_page: Page
) -> None:
    """Traffic police's liaison account finds the share with its agency in the situation
    summary, and opens a shared camera's panel from it; a share with another agency is not
    there."""
    assert server.center is not None
    rt = server.center.runtimes[MUNI]
    now = datetime.now(UTC)
    with server.center.db.begin() as conn:
        for agency, purpose in (("traffic-police", "traffic-accident"), ("police", "robbery")):
            shares.create(
                conn,
                rt,
                agency=agency,
                purpose=purpose,
                minutes=60,
                actor="test",
                now=now,
                public_url=server.url,
                place=CROSSING,
                radius_m=200,
            )
    sign_in(
        fresh_page,
        server,
        "liaison",
        role=Role.LIAISON,
        agency="traffic-police",
        expires_at=now + timedelta(days=1),
    )
    open_console(fresh_page, server)
    block = fresh_page.get_by_test_id("agency-shares")
    item = block.get_by_test_id("agency-share")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(text("en", "share.place_title"))
    expect(item).to_contain_text("Traffic accident")
    cameras = item.locator("button[data-camera]")
    expect(cameras).to_have_count(2)
    cameras.first.click()
    expect(fresh_page.locator("#details .kind-label")).to_have_text(text("en", "camera.title"))
