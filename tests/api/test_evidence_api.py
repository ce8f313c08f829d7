"""Evidence through the API: an incident lists its events' snapshots and clips; the clip is
served with HTTP Range (a browser seeks), everything under video.view, a liaison only for its
agency's incident cameras, another municipality's user not at all, every viewing audited once
(however many byte ranges it takes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.ingest.worker import InboundMessage
from cityops.services import evidence
from cityops.store.tables_audit import audit_log
from cityops.video.evidence import EvidenceConfig, EvidenceRecorder
from cityops.video.synthetic import open_synthetic
from cityops.video.worker.publish import event_payload
from tests.town import MUNI, account, api_client, start_center
from tests.video.evidence.support import event

NIGHT = datetime(2026, 11, 20, 21, 10, tzinfo=UTC)
"""23:10 in Sofia: a person in the school yard opens the school-night incident (police)."""
BASE = f"/api/v1/m/{MUNI}"


class Scene:
    """cam-school's worker evidence, on the rendered street, around an event at NIGHT."""

    def __init__(self, center: ControlCenter) -> None:
        camera = center.runtimes[MUNI].config.camera("cam-school")
        assert camera is not None
        self.camera = camera
        self.scene = open_synthetic("synthetic://street?seed=3")
        config = EvidenceConfig(center.settings.evidence_root, pre_s=1.0, post_s=1.0)
        self.recorder = EvidenceRecorder(camera, 5.0, config)
        self.k = -5

    def feed_until(self, t: float) -> None:
        while (self.k / 5) <= t + 1e-9:
            ts = NIGHT + timedelta(seconds=self.k / 5)
            self.picture = self.recorder.frame(self.scene.frame_at(ts.timestamp()), ts)
            self.k += 1


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = start_center(tmp_path, with_mqtt=False)
    yield cc
    cc.stop()


def ingest(center: ControlCenter, scene: Scene) -> str:
    """The worker's event of a person in the yard at NIGHT, with its evidence, ingested."""
    base = event(0.0)
    e = type(base)(base.kind, NIGHT, "school-yard", 7, base.cls, None, base.boxes, {})
    doc = event_payload(scene.camera, e)
    refs = scene.recorder.evidence(e, str(doc["id"]), scene.picture)
    doc["attributes"] = {**doc["attributes"], **refs}  # type: ignore[dict-item]
    assert center.pipeline is not None
    topic = f"cityops/{MUNI}/cameras/cam-school/events"
    center.pipeline.process([InboundMessage(topic, json.dumps(doc).encode(), NIGHT)])
    return str(doc["id"])


def audited(center: ControlCenter, action: str) -> list[dict[str, object]]:
    with center.db.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == action))
        return [dict(r._mapping) for r in rows]


def test_an_incident_shows_its_events_snapshot_and_seekable_clip(center: ControlCenter) -> None:
    scene = Scene(center)
    scene.feed_until(0.0)
    event_id = ingest(center, scene)
    with api_client(center) as c:
        (incident,) = c.get(f"{BASE}/incidents").json()
        (ev,) = c.get(f"{BASE}/incidents/{incident['id']}/evidence").json()
        assert ev["event_id"] == event_id
        assert ev["camera_id"] == "cam-school"
        assert ev["clip_ready"] is False  # still recording: 1 s after the event
        r = c.get(ev["clip_url"])
        assert r.status_code == 404
        assert r.headers["retry-after"] == "5"
        scene.feed_until(1.2)
        (ev,) = c.get(f"{BASE}/incidents/{incident['id']}/evidence").json()
        assert ev["clip_ready"] is True

        shot = c.get(ev["snapshot_url"])
        assert shot.status_code == 200
        assert shot.headers["content-type"] == "image/jpeg"
        assert shot.content[:2] == b"\xff\xd8"

        whole = c.get(ev["clip_url"])
        assert whole.status_code == 200
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes"
        size = len(whole.content)
        first = c.get(ev["clip_url"], headers={"Range": "bytes=0-99"})
        assert first.status_code == 206
        assert first.headers["content-range"] == f"bytes 0-99/{size}"
        rest = c.get(ev["clip_url"], headers={"Range": "bytes=100-"})
        assert rest.status_code == 206
        assert first.content + rest.content == whole.content
        tail = c.get(ev["clip_url"], headers={"Range": "bytes=-64"})
        assert tail.content == whole.content[-64:]
        assert c.get(ev["clip_url"], headers={"Range": f"bytes={size + 10}-"}).status_code == 416
    path = center.settings.evidence_root / scene.recorder.published[0]
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) == 11  # -1.0 .. +1.0 s at 5 frames/s

    clips = audited(center, "video.clip")
    assert len(clips) == 1  # one viewing, however many ranges
    assert clips[0]["target"] == "cam-school"
    assert clips[0]["detail"]["event_id"] == event_id  # type: ignore[index]
    assert len(audited(center, "video.snapshot")) == 1


def test_a_snapshot_not_in_the_directory_is_not_offered(center: ControlCenter) -> None:
    """A remote worker's directory that is not shared, or a file removed: no snapshot_url."""
    scene = Scene(center)
    scene.feed_until(0.0)
    event_id = ingest(center, scene)
    scene.feed_until(1.2)
    with center.db.connect() as conn:
        rec = evidence.get(conn, MUNI, event_id)
    assert rec is not None
    assert rec.snapshot is not None
    (center.settings.evidence_root / rec.snapshot).unlink()
    with api_client(center) as c:
        (incident,) = c.get(f"{BASE}/incidents").json()
        (ev,) = c.get(f"{BASE}/incidents/{incident['id']}/evidence").json()
        assert ev["snapshot_url"] is None
        assert ev["clip_ready"] is True
        assert c.get(f"{BASE}/evidence/{event_id}/snapshot.jpg").status_code == 404


def test_who_may_see_evidence(center: ControlCenter) -> None:
    scene = Scene(center)
    scene.feed_until(0.0)
    ingest(center, scene)
    scene.feed_until(1.2)
    with api_client(center) as admin:
        (incident,) = admin.get(f"{BASE}/incidents").json()
        assigned = admin.post(
            f"{BASE}/incidents/{incident['id']}/assign", json={"agency": "police"}
        )
        assert assigned.status_code == 200
        listing = f"{BASE}/incidents/{incident['id']}/evidence"
        (ev,) = admin.get(listing).json()
        with TestClient(admin.app) as anonymous:
            assert anonymous.get(ev["clip_url"]).status_code == 401
    urls = (listing, ev["clip_url"], ev["snapshot_url"])
    cases: list[tuple[dict[str, object], int]] = [
        ({"role": Role.ANALYST}, 403),  # no video.view
        ({"role": Role.AUDITOR}, 403),
        ({"role": Role.OPERATOR, "municipality": "elsewhere"}, 404),  # not a member here
        ({"role": Role.LIAISON, "agency": "civil-protection"}, 404),  # not its agency's
        ({"role": Role.LIAISON, "agency": "police"}, 200),
        ({"role": Role.OPERATOR}, 200),
    ]
    until = datetime.now(UTC) + timedelta(days=1)
    for who, status in cases:
        if who["role"] is Role.LIAISON:
            who["expires_at"] = until
        token = account(center.db, installation_admin=False, **who)  # type: ignore[arg-type]
        with api_client(center, token) as c:
            for url in urls:
                assert c.get(url).status_code == status, (who, url)
    with api_client(center, account(center.db, role=Role.OPERATOR, installation_admin=False)) as c:
        assert c.get(f"{BASE}/evidence/nope/clip.mp4").status_code == 404
        assert c.get(f"{BASE}/evidence/{'x' * 201}/clip.mp4").status_code == 422
