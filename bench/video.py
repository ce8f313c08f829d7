"""Video analytics benchmark: frames per second per core of each stage, on each real clip.

    python -m bench.video                     # the clips in $CITYOPS_SHARED_DATA or ../shared/data
    python -m bench.video --clips DIR --repeat 5

One core: the process is pinned to one CPU and OpenCV to one thread. Each clip is decoded once
alone (every frame: the ceiling of a CPU pipeline), then the frames an analysis at 5 frames/s
keeps (every fps/5-th) are held in memory and each stage is timed on them, best of ``--repeat``
passes, each pass from a fresh state (background model, tracks):

- motion: CityOps's motion stage (BGR frame in, regions out);
- frigate: a baseline written after Frigate's ``ImprovedMotionDetector`` (100-row Y plane,
  contrast stretch on running 4th/96th percentiles, Gaussian blur, running average with
  alpha 0.01, threshold 30, dilate, external contours over 10 px, recalibration), given the Y
  plane, and ``frigate+yuv`` with the BGR -> I420 conversion it needs here (Frigate's ffmpeg
  hands it I420 directly);
- blob / hog: the detectors on the motion regions of each frame (frames without motion cost
  nothing and are counted); ``hog full`` on whole frames for reference;
- tracking: the tracker on the blob detections;
- pipeline: CameraPipeline (blob detector, one zone, one line), and with HOG;
- idle: the pipeline on frames where nothing moves (the same frame again).

Cameras per core at 5 frames/s = 1 / (5 x seconds per analysed frame), analysis only and with
decoding 5 frames/s (a camera's substream set to 5 frames/s; at a higher stream rate every
frame must be decoded: multiply the decode cost accordingly). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from cityops.domain.analytics import (
    AnalyticsZone,
    CameraAnalytics,
    CountLine,
    DetectorKind,
    DetectorSpec,
    ObjectClass,
)
from cityops.domain.entities import Camera, LonLat
from cityops.video.analytics.detectors import BlobClassifier, HogPeopleDetector
from cityops.video.analytics.motion import MotionDetector
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.analytics.tracking import Tracker
from cityops.video.analytics.types import Box

Frame = Any
ANALYSIS_FPS = 5.0
T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


class FrigateStyleMotion:
    """Frigate's improved motion detector's algorithm, re-implemented for comparison."""

    def __init__(self, shape: tuple[int, int], height: int = 100) -> None:
        self.size = (height * shape[1] // shape[0], height)
        self.scale = shape[0] / height
        self.avg = np.zeros((height, self.size[0]), np.float32)
        self.contrast = np.zeros((50, 2), np.uint8)
        self.contrast[:, 1] = 255
        self.contrast_i = 0
        self.calibrating = True
        self.motion_frames = 0

    def detect(self, y_plane: Frame) -> list[tuple[int, int, int, int]]:
        small = np.asarray(
            cv2.resize(y_plane, self.size, interpolation=cv2.INTER_NEAREST), dtype=np.uint8
        )
        lo = np.percentile(small, 4).astype(np.uint8)
        hi = np.percentile(small, 96).astype(np.uint8)
        if lo < hi:
            self.contrast[self.contrast_i] = [lo, hi]
            self.contrast_i = (self.contrast_i + 1) % len(self.contrast)
            avg_lo, avg_hi = np.mean(self.contrast, axis=0)
            small = np.clip(small, avg_lo, avg_hi)
            small = ((small - avg_lo) / (avg_hi - avg_lo) * 255).astype(np.uint8)
        small = gaussian_filter(small, sigma=1, radius=1)
        delta = cv2.absdiff(small, cv2.convertScaleAbs(self.avg))
        thresh = cv2.threshold(delta, 30, 255, cv2.THRESH_BINARY)[1]
        thresh = cv2.dilate(thresh, np.ones((3, 3), np.uint8), iterations=1)
        contours, _ = cv2.findContours(thresh, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes, total = [], 0.0
        for c in contours:
            area = cv2.contourArea(c)
            total += area
            if area > 10:
                x, y, w, h = cv2.boundingRect(c)
                s = self.scale
                boxes.append((int(x * s), int(y * s), int((x + w) * s), int((y + h) * s)))
        pct = total / (self.size[0] * self.size[1])
        if pct < 0.05 and len(boxes) <= 4:
            self.calibrating = False
        if self.calibrating or pct > 0.8:
            self.calibrating = True
        alpha = 0.2 if self.calibrating else 0.01
        if boxes:
            self.motion_frames += 1
            if self.motion_frames >= 10:
                cv2.accumulateWeighted(small, self.avg, alpha)
        else:
            cv2.accumulateWeighted(small, self.avg, alpha)
            self.motion_frames = 0
        return boxes


def pin_one_core() -> None:
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def decode_all(path: Path) -> tuple[float, float, list[Frame]]:
    """Decoding rate of the whole clip (frames/s), its frame rate, and the frames kept at 5/s."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(fps / ANALYSIS_FPS))
    kept, n = [], 0
    start = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if n % step == 0:
            kept.append(frame)
        n += 1
    elapsed = time.perf_counter() - start
    cap.release()
    return n / elapsed, fps, kept


def best_rate(run: Callable[[], int], repeat: int) -> float:
    """Items per second of ``run`` (which returns how many it processed), best of ``repeat``."""
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        n = run()
        rates.append(n / (time.perf_counter() - start))
    return max(rates)


def bench_camera(kind: DetectorKind) -> Camera:
    """A camera watching a zone over the whole picture and a line across its middle."""
    everything = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    analytics = CameraAnalytics(
        detector=DetectorSpec(kind=kind),
        zones=(AnalyticsZone("all", everything, loiter_s=30.0),),
        lines=(CountLine("mid", (0.0, 0.5), (1.0, 0.5), classes=frozenset(ObjectClass)),),
    )
    return Camera("c", "m", "c", LonLat(0, 0), 0, 60, 50, analytics=analytics)


def bench_clip(path: Path, repeat: int) -> dict[str, float]:
    decode_fps, fps, frames = decode_all(path)
    h, w = frames[0].shape[:2]
    dt = 1.0 / ANALYSIS_FPS
    regions: list[tuple[Box, ...]] = []
    motion = MotionDetector()
    for f in frames:
        regions.append(motion.detect(f).regions)
    blob, hog = BlobClassifier(), HogPeopleDetector()
    detections = [blob.detect(f, r) for f, r in zip(frames, regions, strict=True)]
    ys = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    out: dict[str, float] = {"decode": decode_fps, "width": w, "height": h, "frames": len(frames)}

    def motion_run() -> int:
        m = MotionDetector()
        for f in frames:
            m.detect(f)
        return len(frames)

    def frigate_run(convert: bool) -> Callable[[], int]:
        def run() -> int:
            m = FrigateStyleMotion((h, w))
            for f, y in zip(frames, ys, strict=True):
                m.detect(cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420)[:h] if convert else y)
            return len(frames)

        return run

    def detector_run(det: Any, full: bool = False) -> Callable[[], int]:
        everything = (Box(0.0, 0.0, 1.0, 1.0),)

        def run() -> int:
            for f, r in zip(frames, regions, strict=True):
                if full or r:
                    det.detect(f, everything if full else r)
            return len(frames)

        return run

    def tracking_run() -> int:
        tracker = Tracker()
        for i, d in enumerate(detections):
            tracker.update(d, i * dt)
        return len(frames)

    def pipeline_run(kind: DetectorKind, idle: bool = False) -> Callable[[], int]:
        cam = bench_camera(kind)

        def run() -> int:
            p = CameraPipeline(cam, timezone="Europe/Sofia")
            for i, f in enumerate(frames):
                p.process(frames[0] if idle else f, T0 + timedelta(seconds=i * dt))
            return len(frames)

        return run

    out["motion"] = best_rate(motion_run, repeat)
    out["frigate"] = best_rate(frigate_run(False), repeat)
    out["frigate+yuv"] = best_rate(frigate_run(True), repeat)
    out["blob"] = best_rate(detector_run(blob), repeat)
    out["hog"] = best_rate(detector_run(hog), max(1, repeat // 2))
    out["hog full"] = best_rate(detector_run(hog, full=True), 1)
    out["tracking"] = best_rate(tracking_run, repeat)
    out["pipeline"] = best_rate(pipeline_run(DetectorKind.MOTION_BLOB), repeat)
    out["pipeline hog"] = best_rate(pipeline_run(DetectorKind.HOG), max(1, repeat // 2))
    out["idle"] = best_rate(pipeline_run(DetectorKind.MOTION_BLOB, idle=True), repeat)
    out["moving"] = sum(1 for r in regions if r) / len(regions)
    out["stream fps"] = fps
    return out


COLUMNS = (
    "decode",
    "motion",
    "frigate",
    "frigate+yuv",
    "blob",
    "hog",
    "hog full",
    "tracking",
    "pipeline",
    "pipeline hog",
    "idle",
)


def cameras(pipeline_fps: float, decode_fps: float | None = None) -> float:
    cost = 1.0 / pipeline_fps + (1.0 / decode_fps if decode_fps else 0.0)
    return 1.0 / (ANALYSIS_FPS * cost)


def report(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| clip | size | moving | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 3) + "|",
    ]
    for name, r in results.items():
        cells = [f"{r[c]:,.0f}" for c in COLUMNS]
        size = f"{r['width']:.0f}x{r['height']:.0f}"
        lines.append(f"| {name} | {size} | {r['moving']:.0%} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| clip | motion vs frigate | (decode + idle) / decode | cameras/core motion-only "
        "(+decode) | cameras/core HOG (+decode) |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        idle_ratio = (1 / r["decode"] + 1 / r["idle"]) / (1 / r["decode"])
        lines.append(
            f"| {name} | {r['motion'] / r['frigate']:.1f}x | {idle_ratio:.2f} | "
            f"{cameras(r['pipeline']):,.0f} ({cameras(r['pipeline'], r['decode']):,.0f}) | "
            f"{cameras(r['pipeline hog']):,.0f} ({cameras(r['pipeline hog'], r['decode']):,.0f})"
            " |"
        )
    return "\n".join(lines)


def default_clips() -> Path:
    env = os.environ.get("CITYOPS_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    return root / "video"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=Path, default=default_clips())
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    clips = sorted(p for p in args.clips.glob("*") if p.suffix in (".avi", ".mp4"))
    if not clips:
        sys.exit(f"no clips in {args.clips}")
    pin_one_core()
    results = {}
    for clip in clips:
        results[clip.name] = bench_clip(clip, args.repeat)
        print(f"{clip.name}: done", file=sys.stderr)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(report(results))
    print(
        f"\nload average at the end: {load:.2f}; median pipeline fps "
        f"{statistics.median(r['pipeline'] for r in results.values()):,.0f}"
    )


if __name__ == "__main__":
    main()
