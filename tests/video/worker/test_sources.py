"""Frame sources against real servers on loopback: RTSP (GStreamer's RTSP server serving the
PETS 2009 clip's H.264), HTTP MJPEG (a threaded http.server serving the clip's frames as an IP
camera does), files played in real time and looped; a stream that drops and comes back is
reconnected; bad input fails with a clear error."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from cityops.video.sources import FrameSource, SourceError
from cityops.video.worker.camera import CameraJob, CameraRunner
from cityops.video.worker.publish import Message
from tests.harness import LOOPBACK, free_port
from tests.video.worker.streams import MjpegServer, RtspServer, rtsp_unavailable_reason
from tests.video.worker.worker_support import camera, corrupt_file, tiny_clip, wait_for

PETS = "pets2009_s2l1_vtest_480x360.avi"


@pytest.fixture
def pets(shared_data: Path) -> Path:
    return shared_data / "video" / PETS


def timed_frames(source: FrameSource, fps: float, n: int) -> tuple[list[np.ndarray], float]:  # type: ignore[type-arg]
    """``n`` frames at ``fps`` and the time between the first and the last."""
    frames: Iterator[np.ndarray] = source.frames(fps)  # type: ignore[type-arg]
    first = next(frames)
    t0 = time.monotonic()
    rest = list(islice(frames, n - 1))
    source.close()
    return [first, *rest], time.monotonic() - t0


def test_rtsp_from_a_real_server(pets: Path) -> None:
    if reason := rtsp_unavailable_reason():
        pytest.skip(reason)
    server = RtspServer(pets)
    try:
        frames, elapsed = timed_frames(FrameSource(server.url), 5.0, 11)
    finally:
        server.stop()
    assert {f.shape for f in frames} == {(360, 480, 3)}
    assert elapsed >= 10 / 5.0 - 0.1  # at most 5 frames a second, though the stream runs at 10
    assert len({f.tobytes() for f in frames}) == len(frames)  # people walk: every frame differs


def test_http_mjpeg_from_a_local_server(pets: Path) -> None:
    with MjpegServer(pets) as server:
        frames, elapsed = timed_frames(FrameSource(server.url), 5.0, 11)
    assert {f.shape for f in frames} == {(360, 480, 3)}
    assert elapsed >= 10 / 5.0 - 0.1
    assert len({f.tobytes() for f in frames}) == len(frames)


def test_a_file_plays_in_real_time_and_loops(clip: Path) -> None:
    """The made clip has 20 frames at 10/s: 25 frames at 10/s need the loop, and 2.4 s."""
    frames, elapsed = timed_frames(FrameSource(str(clip)), 10.0, 25)
    assert len(frames) == 25
    assert 2.2 <= elapsed <= 4.0
    assert frames[20].tobytes() == frames[0].tobytes()  # frame 20 is the clip's first again


def test_decoding_at_most_the_analysis_rate(clip: Path) -> None:
    """Asked for 5 frames/s from a 10 frames/s clip: every other frame is handed on."""
    frames, elapsed = timed_frames(FrameSource(str(clip)), 5.0, 6)
    assert 0.9 <= elapsed <= 2.0
    reference = FrameSource(str(clip))
    every = list(islice(reference.frames(10.0), 11))
    reference.close()
    assert [f.tobytes() for f in frames] == [f.tobytes() for f in every[::2]]


def test_a_stream_that_drops_and_comes_back_is_reconnected(pets: Path) -> None:
    sent: list[Message] = []
    server = MjpegServer(pets).start()
    runner = CameraRunner(CameraJob(camera("cam-1"), server.url), sent.append, backoff=(0.2, 1.0))
    runner.start()
    try:
        assert wait_for(lambda: runner.frames >= 5, 15), runner.error
        server.stop()
        assert wait_for(lambda: runner.error is not None, 10)
        frames_when_down = runner.frames
        server = MjpegServer(pets, port=server.port).start()
        assert wait_for(lambda: runner.frames >= frames_when_down + 5, 15), runner.error
        assert runner.error is None
        assert runner.connects == 2
        assert server.clients == 1
    finally:
        runner.stop()
        server.stop()
    assert sent == []  # down for less than hold_s: no health event


@pytest.mark.parametrize(
    ("make_url", "message"),
    [
        (lambda _p: f"rtsp://{LOOPBACK}:{free_port()}/nothing", "cannot open rtsp stream"),
        (lambda _p: f"http://{LOOPBACK}:{free_port()}/video.mjpg", "cannot open http stream"),
        (lambda p: str(corrupt_file(p / "corrupt.avi")), "corrupt or not a video"),
        (lambda p: str(p / "missing.mp4"), "no video file at"),
        (lambda p: str(tiny_clip(p / "tiny.avi")), "absurd resolution 8x8"),
        (lambda _p: "gopher://camera/1", "unsupported stream scheme 'gopher'"),
    ],
    ids=["rtsp-refused", "http-refused", "corrupt-file", "missing-file", "absurd", "scheme"],
)
def test_bad_input_fails_with_a_clear_error(tmp_path: Path, make_url: object, message: str) -> None:
    assert callable(make_url)

    def first_frame() -> None:
        next(FrameSource(make_url(tmp_path)).frames(5.0))

    with pytest.raises(SourceError, match=message):
        first_frame()


def test_a_synthetic_scene_is_a_source() -> None:
    frames, elapsed = timed_frames(FrameSource("synthetic://crossing?seed=1&night=0"), 5.0, 6)
    assert {f.shape for f in frames} == {(360, 640, 3)}
    assert 0.75 <= elapsed <= 2.0  # 5 periods, the first frame's rendering (cached scenery) in it
    with pytest.raises(SourceError, match="bad synthetic scene"):
        next(FrameSource("synthetic://no-such-scene").frames(5.0))
