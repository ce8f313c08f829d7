"""The incident view shows its camera events' evidence in headless Chromium: the masked
snapshot with the event's boxes, and the H.264 clip playing in a <video> (Debian's Chromium
plays H.264: canPlayType('video/mp4; codecs="avc1.4D401E"') is "probably"), fetched with HTTP
Range requests and its viewing recorded in the audit once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from cityops.domain.analytics import AnalyticsEventKind, ObjectClass
from cityops.store.tables_audit import audit_log
from cityops.video.analytics.types import AnalyticsEvent, Box
from cityops.video.evidence import EvidenceConfig, EvidenceRecorder
from cityops.video.synthetic import open_synthetic
from cityops.video.worker.publish import event_payload
from tests.harness.live_server import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

NIGHT = datetime(2026, 11, 20, 21, 10, tzinfo=UTC)
"""23:10 in Sofia: a person in cam-school's yard opens "Person in the school yard at night"."""


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def worker_evidence(server: LiveServer) -> dict[str, Any]:
    """cam-school's event at NIGHT as its video worker publishes it, its snapshot and its clip
    (1 s before to 1 s after, rendered street) written into the server's evidence directory."""
    assert server.center is not None
    camera = server.center.runtimes["testtown"].config.camera("cam-school")
    assert camera is not None
    scene = open_synthetic("synthetic://street?seed=5")
    config = EvidenceConfig(server.settings.evidence_root, pre_s=1.0, post_s=1.0)
    recorder = EvidenceRecorder(camera, 5.0, config)
    event = AnalyticsEvent(
        AnalyticsEventKind.PERSON,
        NIGHT,
        zone="school-yard",
        track_id=3,
        cls=ObjectClass.PERSON,
        boxes=(Box(0.55, 0.35, 0.7, 0.9),),
    )
    doc = event_payload(camera, event)
    refs: dict[str, str] = {}
    for k in range(-5, 7):
        ts = NIGHT + timedelta(seconds=k / 5)
        picture = recorder.frame(scene.frame_at(ts.timestamp()), ts)
        if k == 0:
            refs = dict(recorder.evidence(event, str(doc["id"]), picture))
    assert recorder.published, "the clip was not finished"
    doc["attributes"] = {**doc["attributes"], **refs}  # type: ignore[dict-item]
    return doc


CSP_WATCH = (
    "window.__csp = [];"
    " document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def clip_views(server: LiveServer) -> list[tuple[str, str, str]]:
    assert server.center is not None
    with server.center.db.connect() as conn:
        q = select(audit_log.c.actor, audit_log.c.action, audit_log.c.target)
        rows = conn.execute(q.where(audit_log.c.action == "video.clip"))
        return [(r.actor, r.action, r.target) for r in rows]


def test_the_incident_shows_the_snapshot_and_plays_the_clip(
    server: LiveServer, page: Page, publish: Any
) -> None:
    doc = worker_evidence(server)
    page.add_init_script(CSP_WATCH)
    page.goto(server.url)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    publish("cityops/testtown/cameras/cam-school/events", doc)
    item = page.get_by_test_id("queue-item").filter(has_text="Person in the school yard at night")
    expect(item).to_have_count(1, timeout=5000)
    item.click()
    evidence = page.get_by_test_id("evidence")
    figure = evidence.locator(f'figure[data-event="{doc["id"]}"]')
    expect(figure).to_have_count(1)
    snapshot = figure.locator("img.evidence-snapshot")
    expect(snapshot).to_be_visible()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth === 640", arg=snapshot.element_handle()
    )

    video = figure.locator("video.evidence-clip")
    expect(video).to_be_visible()
    handle = video.element_handle()
    assert handle is not None
    assert handle.evaluate("(v) => v.preload") == "none"  # not fetched (nor audited) unplayed
    assert handle.evaluate("(v) => v.poster").endswith("/snapshot.jpg")
    assert not clip_views(server)
    handle.evaluate("(v) => v.play()")
    page.wait_for_function("(v) => v.readyState >= 1", arg=handle, timeout=10_000)
    duration = handle.evaluate("(v) => v.duration")
    assert 1.9 <= duration <= 2.5, duration
    assert handle.evaluate("(v) => [v.videoWidth, v.videoHeight]") == [640, 360]
    page.wait_for_function("(v) => v.currentTime > 0.8", arg=handle, timeout=10_000)
    decoded = handle.evaluate("(v) => v.getVideoPlaybackQuality().totalVideoFrames")
    assert decoded >= 4
    assert handle.evaluate("(v) => v.error") is None
    # seeking back works (the server answers byte ranges)
    handle.evaluate("(v) => { v.pause(); v.currentTime = 0.2; }")
    page.wait_for_function("(v) => !v.seeking && Math.abs(v.currentTime - 0.2) < 0.15", arg=handle)

    assert page.evaluate("window.__csp") == []  # the security policy let all of it through
    assert clip_views(server) == [("ivanova", "video.clip", "cam-school")]  # once, many ranges
    assert server.center is not None
    with server.center.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.target))
        assert ("ivanova", "video.snapshot", "cam-school") in {tuple(r) for r in rows}


def test_the_camera_wall_shows_what_each_camera_sees_now(
    server: LiveServer, page: Page, publish: Any
) -> None:
    page.add_init_script(CSP_WATCH)
    page.goto(server.url)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.keyboard.press("2")  # the camera wall
    tile = page.locator('.wall-tile[data-camera="cam-a"]')
    expect(tile).to_have_count(1)
    objects = [
        {"track": 1, "label": "person", "box": [0.1, 0.2, 0.2, 0.6]},
        {"track": 2, "label": "vehicle", "box": [0.5, 0.5, 0.9, 0.8]},
    ]
    topic = "cityops/testtown/cameras/cam-a/detections"
    for _ in range(3):  # the worker sends it about once a second
        publish(topic, {"ts": datetime.now(UTC).isoformat(), "objects": objects})
        page.wait_for_timeout(300)
    boxes = tile.locator(".wall-det")
    expect(boxes).to_have_count(2)
    expect(tile.get_by_test_id("wall-detections")).to_have_text("2 detected")
    # the vehicle's box where the picture has it (the tile shows the whole 16:9 picture)
    place = boxes.nth(1).evaluate("(b) => [b.style.left, b.style.top, b.style.width]")
    assert place == ["50%", "50%", "40%"]
    expect(page.locator('.wall-tile[data-camera="cam-b"] .wall-det')).to_have_count(0)
    assert page.evaluate("window.__csp") == []
    # nothing new for 3 s: what the camera saw is no longer shown
    expect(boxes).to_have_count(0, timeout=6000)
    expect(tile.get_by_test_id("wall-detections")).to_have_text("")
