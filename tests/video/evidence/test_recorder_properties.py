"""Whatever the timing of events, every event's evidence is a reference the control center
accepts, its clip window holds the event and lasts at most max_clip_s, no more than MAX_OPEN
clips record at once, and once the camera stops every named clip exists and decodes with frames
only from its window (Hypothesis over event times)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.analytics import AnalyticsEventKind
from cityops.domain.evidence import refs_of
from cityops.video.analytics.types import AnalyticsEvent, Box
from cityops.video.evidence import EvidenceConfig, EvidenceRecorder
from cityops.video.evidence.recorder import MAX_OPEN
from tests.video.evidence.support import decode
from tests.video.worker.worker_support import camera

T0 = datetime(2026, 11, 20, 23, 59, 50, tzinfo=UTC)  # clips cross midnight too
FPS = 5.0


@settings(max_examples=40, deadline=None)
@given(
    events=st.lists(st.integers(min_value=0, max_value=80), max_size=12),
    pre=st.sampled_from([0.0, 0.4, 1.0]),
    post=st.sampled_from([0.0, 0.6, 2.0]),
    longest=st.sampled_from([1.0, 3.0, 60.0]),
)
def test_evidence_invariants(events: list[int], pre: float, post: float, longest: float) -> None:
    cam = camera("cam-p")
    at_frame = set(events)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = EvidenceConfig(root, pre_s=pre, post_s=post, max_clip_s=longest)
        recorder = EvidenceRecorder(cam, FPS, config)
        named: list[tuple[datetime, dict[str, str]]] = []
        for k in range(90):
            ts = T0 + timedelta(seconds=k / FPS)
            frame = np.full((36, 64, 3), (k * 7) % 256, np.uint8)
            picture = recorder.frame(frame, ts)
            if k in at_frame:
                e = AnalyticsEvent(AnalyticsEventKind.MOTION, ts, boxes=(Box(0.1, 0.1, 0.5, 0.5),))
                named.append((ts, dict(recorder.evidence(e, f"ev-{k}", picture))))
            assert len(recorder._open) <= MAX_OPEN
        recorder.close()
        for ts, refs in named:
            got = refs_of(refs, cam.municipality, cam.id, ts)
            assert got.snapshot == refs["snapshot"]
            assert (root / refs["snapshot"]).is_file()
            assert got.clip == refs["clip"]
            assert got.clip_start is not None
            assert got.clip_end is not None
            assert got.clip_start <= ts <= got.clip_end
            assert got.clip_end - got.clip_start <= timedelta(seconds=longest) + timedelta(
                seconds=post
            )
            frames, times, _ = decode(root / refs["clip"])
            assert frames
            assert times[-1] <= longest + 1e-6
        assert not list(root.rglob(".part-*"))
