"""Evidence on the worker, on the rendered street: each event's masked snapshot with its boxes,
and an H.264 MP4 a browser plays holding the frames from ``pre_s`` before to ``post_s`` after
the event, both written atomically under <root>/<municipality>/<camera>/<day>/."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from cityops.domain.evidence import EvidenceKind, evidence_path, refs_of
from cityops.video.evidence.draw import BOX_BGR
from cityops.video.evidence.files import TEMP_PREFIX
from cityops.video.masking import MaskStyle
from cityops.video.worker.publish import event_id
from tests.video.evidence.support import (
    MASK,
    Feed,
    at,
    best_time,
    decode,
    detail_correlation,
    event,
    masked_camera,
    region,
)


def test_a_clip_holds_the_seconds_before_and_after_its_event(tmp_path: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(tmp_path, cam, pre_s=2.0, post_s=3.0)
    feed.until(6.0)
    e = event(6.0)
    eid = event_id(cam, e)
    refs = feed.recorder.evidence(e, eid, feed.picture)
    clip = tmp_path / evidence_path(cam.municipality, cam.id, e.ts, eid, EvidenceKind.CLIP)
    assert refs["clip"] == clip.relative_to(tmp_path).as_posix()
    assert refs["clip_start"] == at(4.0).isoformat().replace("+00:00", "Z")
    assert refs["clip_end"] == at(9.0).isoformat().replace("+00:00", "Z")
    parsed = refs_of(dict(refs), cam.municipality, cam.id, e.ts)
    assert parsed.clip == refs["clip"]
    assert parsed.snapshot == refs["snapshot"]
    feed.until(8.8)
    assert not clip.exists(), "published before its window ended"
    assert [p.name for p in clip.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]
    feed.until(10.0)
    assert clip.exists()
    assert not [p for p in clip.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]

    head = clip.read_bytes()[:4096]
    assert head.index(b"moov") < head.index(b"mdat") if b"mdat" in head else b"moov" in head
    frames, times, stream = decode(clip)
    ctx = stream.codec_context
    assert ctx.name == "h264"
    assert ctx.profile in ("Main", "Constrained Baseline", "Baseline")
    assert ctx.pix_fmt == "yuv420p"
    assert len(frames) == 26  # 4.0 .. 9.0 s at 5 frames/s
    assert times[-1] == pytest.approx(5.0, abs=0.01)
    assert stream.duration is not None
    assert stream.time_base is not None
    assert float(stream.duration * stream.time_base) == pytest.approx(5.2, abs=0.25)
    # Which scene moments are in it: decoded frames matched to the rendered ones.
    candidates = [k / 5 for k in range(0, 60)]
    seen = [best_time(f, feed, candidates) for f in frames]
    assert seen[0] == pytest.approx(4.0)
    assert seen[-1] == pytest.approx(9.0)
    assert seen == sorted(seen)
    assert min(seen) < 6.0 < max(seen)


def test_the_snapshot_is_masked_and_shows_the_event_boxes(tmp_path: Path) -> None:
    cam = masked_camera()
    feed = Feed(tmp_path, cam, pre_s=1.0, post_s=1.0, style=MaskStyle.PIXELATE)  # type: ignore[arg-type]
    feed.until(3.0)
    e = event(3.0)
    refs = feed.recorder.evidence(e, event_id(cam, e), feed.picture)
    shot = np.asarray(cv2.imread(str(tmp_path / refs["snapshot"])))
    original = feed.original(3.0)
    assert shot.shape == original.shape
    # Masked: the fine detail inside the mask is gone, outside it stays.
    assert detail_correlation(region(original, MASK), region(shot, MASK)) < 0.15
    rest = ((0.5, 0.05), (0.95, 0.05), (0.95, 0.35), (0.5, 0.35))
    assert detail_correlation(region(original, rest), region(shot, rest)) > 0.8
    # The box (0.5, 0.4)-(0.7, 0.9): its outline in the box colour, not inside it.
    h, w = shot.shape[:2]
    amber = np.all(np.abs(shot.astype(int) - BOX_BGR) < 60, axis=2)
    left_edge = amber[int(0.6 * h) : int(0.85 * h), int(0.5 * (w - 1)) - 1 : int(0.5 * (w - 1)) + 2]
    assert left_edge.any(axis=1).mean() > 0.9
    assert amber[int(0.55 * h) : int(0.85 * h), int(0.55 * w) : int(0.65 * w)].mean() < 0.05
    assert amber.mean() < 0.05


@pytest.mark.parametrize("style", [MaskStyle.BLACK, MaskStyle.PIXELATE, MaskStyle.BLUR])
def test_every_frame_of_a_clip_is_masked(tmp_path: Path, style: MaskStyle) -> None:
    cam = masked_camera()
    feed = Feed(tmp_path, cam, pre_s=1.0, post_s=1.0, style=style)  # type: ignore[arg-type]
    feed.until(2.0)
    e = event(2.0)
    refs = feed.recorder.evidence(e, event_id(cam, e), feed.picture)
    feed.until(3.4)
    frames, _, _ = decode(tmp_path / refs["clip"])
    assert len(frames) == 11
    rest = ((0.5, 0.05), (0.95, 0.05), (0.95, 0.35), (0.5, 0.35))
    for k, frame in enumerate(frames):
        original = feed.original(1.0 + k / 5)
        inside = region(frame, MASK)
        if style is MaskStyle.BLACK:
            assert inside.max() < 30
        else:
            assert detail_correlation(region(original, MASK), inside) < 0.15
        assert detail_correlation(region(original, rest), region(frame, rest)) > 0.6


def test_events_in_a_burst_share_one_clip_that_covers_them_all(tmp_path: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(tmp_path, cam, pre_s=1.0, post_s=2.0, max_clip_s=6.0)
    feed.until(2.0)
    first = feed.recorder.evidence(event(2.0), "ev-1", feed.picture)
    feed.until(3.0)
    second = feed.recorder.evidence(event(3.0), "ev-2", feed.picture)
    assert second["clip"] == first["clip"]
    assert second["clip_start"] == first["clip_start"]
    assert second["snapshot"] != first["snapshot"]
    feed.until(6.6)  # past the second event's window: 1.0 .. 5.0 s
    feed.until(7.0)
    third = feed.recorder.evidence(event(7.0), "ev-3", feed.picture)
    assert third["clip"] != first["clip"]
    _frames, times, _ = decode(tmp_path / first["clip"])
    assert times[-1] == pytest.approx(4.0, abs=0.01)  # 1.0 .. 5.0 s
    feed.recorder.close()  # the camera stops: the open clip is published as it is
    assert (tmp_path / third["clip"]).exists()
    assert len(decode(tmp_path / third["clip"])[0]) == 6  # 6.0 .. 7.0 s


def test_a_long_burst_is_cut_at_the_longest_clip(tmp_path: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(tmp_path, cam, pre_s=1.0, post_s=1.0, max_clip_s=3.0)
    feed.until(1.0)
    refs = [feed.recorder.evidence(event(1.0), "ev-0", feed.picture)]
    for k in range(1, 4):  # 1.6 joins (ends 2.6 s); 2.2 would end past 3 s: a new clip
        feed.until(1.0 + 0.6 * k)
        refs.append(feed.recorder.evidence(event(1.0 + 0.6 * k), f"ev-{k}", feed.picture))
    feed.until(8.0)
    assert [r["clip"].rsplit("/", 1)[1] for r in refs] == ["ev-0.mp4"] * 2 + ["ev-2.mp4"] * 2
    for r in refs:
        _frames, times, _ = decode(tmp_path / r["clip"])
        assert times[-1] <= 3.0 + 0.01


def test_a_stalled_stream_publishes_what_it_has(tmp_path: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(tmp_path, cam, pre_s=1.0, post_s=5.0)
    feed.until(2.0)
    refs = feed.recorder.evidence(event(2.0), "ev-1", feed.picture)
    feed.until(3.0)
    feed.recorder.tick(at(7.5))  # window ends at 7 s; no frame since 3 s
    assert not (tmp_path / refs["clip"]).exists()
    feed.recorder.tick(at(10.1))
    assert len(decode(tmp_path / refs["clip"])[0]) == 11  # 1.0 .. 3.0 s


def test_without_frames_before_no_clip_but_a_snapshot(tmp_path: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(tmp_path, cam, clips=False)
    feed.until(0.0)
    refs = feed.recorder.evidence(event(0.0), "ev-1", feed.picture)
    assert set(refs) == {"snapshot"}
    assert feed.recorder.evidence(event(0.0), "ev-2", None) == {}


def test_the_ring_is_bounded_by_its_seconds(tmp_path: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(tmp_path, cam, pre_s=2.0, post_s=1.0)
    feed.until(30.0)
    assert len(feed.recorder.ring) == 11  # 28.0 .. 30.0 s
    assert feed.recorder.ring.nbytes < 11 * 120_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system (tmpfs), for a full disk; skipped where mounting is not allowed."""
    where = tmp_path / "small"
    where.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (a full disk cannot be made otherwise)")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace')}")
    try:
        yield where
    finally:  # a file left open would keep it busy: detach it then, and say so
        if subprocess.run(["umount", str(where)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=False)
            pytest.fail("the small file system was still busy: a file was left open")


def fill(disk: Path, name: str, leave: int = 0) -> Path:
    """Take the free space of ``disk`` but ``leave`` bytes."""
    st = os.statvfs(disk)
    filler = disk / name
    filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


def test_a_full_disk_costs_the_evidence_not_the_camera(small_disk: Path) -> None:
    cam = masked_camera(style_masks=False)
    feed = Feed(small_disk, cam, pre_s=1.0, post_s=2.0)
    feed.until(2.0)
    first = fill(small_disk, "filler-1")
    assert feed.recorder.evidence(event(2.0), "ev-0", feed.picture) == {}  # no snapshot: none named
    first.unlink()
    refs = feed.recorder.evidence(event(2.0), "ev-1", feed.picture)
    assert (small_disk / refs["snapshot"]).is_file()
    second = fill(small_disk, "filler-2")  # the clip being recorded runs out of space
    feed.until(5.0)  # its window ends: nothing is published, the camera's frames go on
    assert not (small_disk / refs["clip"]).exists()
    assert not list(small_disk.rglob(".part-*"))
    assert len(feed.recorder.ring) == 6
    second.unlink()
    after = feed.recorder.evidence(event(5.0), "ev-2", feed.picture)
    feed.until(7.4)
    assert (small_disk / after["snapshot"]).is_file()
    assert len(decode(small_disk / after["clip"])[0]) == 16  # 4.0 .. 7.0 s
