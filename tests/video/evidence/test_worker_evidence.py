"""The worker's camera runner with evidence, on a rendered street played in real time through
the real pipeline: every analytics event it publishes names its snapshot and its clip, both
exist under <root>/<municipality>/<camera>/<day>/ once the clip's window is over, the clip
decodes as H.264, and the camera's detections go out about once a second (retained)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

from cityops.domain.analytics import CameraAnalytics
from cityops.domain.evidence import refs_of
from cityops.video.evidence import EvidenceConfig
from cityops.video.worker.camera import CameraJob, CameraRunner, default_analyzer
from cityops.video.worker.publish import Message
from tests.video.evidence.support import decode
from tests.video.worker.worker_support import camera, wait_for

STREET = "synthetic://street?seed=2"


def test_published_events_carry_their_evidence(tmp_path: Path) -> None:
    cam = dataclasses.replace(camera("cam-street", url=STREET), analytics=CameraAnalytics(fps=5))
    job = CameraJob(cam, STREET)
    sent: list[Message] = []
    config = EvidenceConfig(tmp_path, pre_s=1.0, post_s=1.0)
    runner = CameraRunner(job, sent.append, default_analyzer(cam, "Europe/Sofia"), evidence=config)
    runner.start()

    def events() -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for m in list(sent):
            if m.topic.endswith("/events"):
                doc = json.loads(m.payload)
                out += doc.get("events", [doc])
        return [e for e in out if not str(e["kind"]).startswith("camera_")]

    try:
        assert wait_for(lambda: len(events()) >= 1, 30), "no analytics event on the street"
        first = events()[0]
        recorder = runner.evidence
        assert recorder is not None
        assert wait_for(lambda: len(recorder.published) >= 1, 10), "no clip finished"
    finally:
        runner.stop()
    attrs = first["attributes"]
    assert isinstance(attrs, dict)
    ts = datetime.fromisoformat(str(first["ts"]).replace("Z", "+00:00"))
    refs = refs_of(attrs, cam.municipality, cam.id, ts)
    assert refs.snapshot is not None
    assert refs.clip is not None
    assert (tmp_path / refs.snapshot).read_bytes()[:2] == b"\xff\xd8"
    frames, times, stream = decode(tmp_path / refs.clip)
    assert stream.codec_context.name == "h264"
    assert len(frames) >= 6  # about 1 s before and 1 s after, at 5 frames/s
    # Events close together share the clip and extend it to the last one's post_s; the frame that
    # ends it arrives within a frame interval or two of that (the live source is paced, not exact).
    joined = [
        datetime.fromisoformat(str(e["ts"]).replace("Z", "+00:00"))
        for e in events()
        if isinstance(e["attributes"], dict) and e["attributes"].get("clip") == refs.clip
    ]
    assert refs.clip_start is not None
    window = (max(joined) - refs.clip_start).total_seconds() + config.post_s
    assert 1.0 <= times[-1] <= window + 2 / 5
    detections = [m for m in sent if m.topic.endswith("/detections")]
    assert detections
    assert all(m.retain and m.qos == 0 for m in detections)
    assert not list(tmp_path.rglob(".part-*")), "an unfinished file was left behind"
