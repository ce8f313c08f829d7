"""Video workers on a real Mosquitto: two ``cityops video-worker`` processes share the demo's 25
cameras without overlap (their presence messages and the events each publishes say which camera
runs where); one is killed with SIGKILL and the other takes its cameras within the stated time.

The cameras' streams are two recorded clips standing in for them (CITYOPS_DEMO_VIDEO_DIR, as in
the demo): a real highway clip, and a "covered lens" clip (dark noise), which every camera showing
it reports as ``camera_covered`` after --hold-s 1: that event names the worker that saw it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityops.config.loader import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import TamperSpec
from cityops.video.worker import CameraJob, VideoWorker
from cityops.video.worker.worker import BROKER_CHECK_S
from tests.harness import MosquittoServer, free_port
from tests.video.worker.worker_support import camera, corrupt_file, tiny_clip, wait_for

KEEPALIVE = 2
TAKEOVER_S = 1.5 * KEEPALIVE + BROKER_CHECK_S + 1.0
"""What the worker states for a vanished worker (VideoWorker.takeover_s): 1.5 keep-alive periods,
the broker's keep-alive check, one check of the others."""
KILLED_S = 3.0
"""A killed process's connection is closed by its OS: the will goes out at once (measured 1 s)."""
ALL = {f"kazanlak/{c.id}" for c in load_config(DEMO_CONFIG).cameras}
COVERED = {f"kazanlak/{c.id}" for i, c in enumerate(load_config(DEMO_CONFIG).cameras) if i % 2}
"""Clips are handed out by camera index: the second clip (covered) goes to the odd ones."""


class Observer:
    """Subscribes to the workers' presence and the cameras' events."""

    def __init__(self, url: str) -> None:
        self.presence: dict[str, set[str]] = {}
        self.errors: dict[str, dict[str, str]] = {}
        self.events: list[tuple[str, str, str]] = []
        """(camera key, kind, worker) of every event, in order."""
        self.lock = threading.Lock()
        host, port = url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="observer")
        self.client.on_message = self.on_message
        self.client.connect(host, int(port))
        self.client.subscribe([("cityops/_workers/+", 1), ("cityops/+/cameras/+/events", 1)])
        self.client.loop_start()

    def on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        with self.lock:
            if parts[1] == "_workers":
                if msg.payload:
                    doc = json.loads(msg.payload)
                    self.presence[parts[2]] = set(doc["cameras"])
                    self.errors[parts[2]] = doc["errors"]
                else:
                    self.presence.pop(parts[2], None)
                return
            doc = json.loads(msg.payload)
            for event in doc.get("events", [doc]):
                key = f"{parts[1]}/{parts[3]}"
                self.events.append((key, event["kind"], event["attributes"]["worker"]))

    def snapshot(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """The workers' presence, and the workers that reported each covered camera."""
        with self.lock:
            covered: dict[str, set[str]] = {}
            for key, kind, worker in self.events:
                if kind == "camera_covered":
                    covered.setdefault(key, set()).add(worker)
            return {w: set(c) for w, c in self.presence.items()}, covered

    def kinds(self) -> dict[str, list[str]]:
        with self.lock:
            out: dict[str, list[str]] = {}
            for key, kind, _ in self.events:
                out.setdefault(key, []).append(kind)
            return out

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def covered_clip(path: Path) -> Path:
    rng = np.random.default_rng(1)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    for _ in range(20):
        writer.write(np.asarray(rng.integers(5, 15, (240, 320, 3)), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture
def clips(tmp_path: Path, shared_data: Path) -> Path:
    directory = tmp_path / "clips"
    directory.mkdir()
    shutil.copy(shared_data / "video" / "highway_cctv_video02.avi", directory / "a-highway.avi")
    covered_clip(directory / "b-covered.avi")
    return directory


@pytest.fixture
def observer(mosquitto: MosquittoServer) -> Iterator[Observer]:
    obs = Observer(mosquitto.url)
    yield obs
    obs.close()


def start_worker(worker_id: str, url: str, clips: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CITYOPS_MQTT_URL": url,
        "CITYOPS_DEMO_VIDEO_DIR": str(clips),
        "CITYOPS_LOG_LEVEL": "INFO",
    }
    cmd = [sys.executable, "-m", "cityops.cli", "video-worker", "--id", worker_id]
    cmd += ["--keepalive", str(KEEPALIVE), "--hold-s", "1"]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_two_workers_share_the_cameras_and_one_takes_over_when_the_other_dies(
    mosquitto: MosquittoServer, observer: Observer, clips: Path, tmp_path: Path
) -> None:
    east = start_worker("east", mosquitto.url, clips, tmp_path / "east.log")
    west = start_worker("west", mosquitto.url, clips, tmp_path / "west.log")
    try:

        def shared() -> bool:
            presence, covered = observer.snapshot()
            return (
                set(presence) == {"east", "west"}
                and presence["east"] | presence["west"] == ALL
                and set(covered) == COVERED
            )

        def logs() -> str:
            return "".join((tmp_path / f"{w}.log").read_text() for w in ("east", "west"))

        assert wait_for(shared, 60), (observer.snapshot(), logs())
        presence, covered = observer.snapshot()
        assert not presence["east"] & presence["west"], "a camera runs on two workers"
        assert presence["east"], "west runs everything"
        assert presence["west"], "east runs everything"
        for key, seen in covered.items():  # each camera's events come from its owner only
            owner = "east" if key in presence["east"] else "west"
            assert seen == {owner}, key

        east.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        east.wait(5)
        orphans = presence["east"]

        def taken_over() -> bool:
            now_presence, _ = observer.snapshot()
            return set(now_presence) == {"west"} and now_presence["west"] == ALL

        assert wait_for(taken_over, 30), (observer.snapshot(), logs())
        took = time.monotonic() - killed
        assert took <= KILLED_S, f"takeover took {took:.1f} s"
        # and west really runs them: the orphaned covered cameras are reported again, by west
        assert wait_for(
            lambda: all("west" in observer.snapshot()[1].get(k, set()) for k in orphans & COVERED),
            15,
        ), logs()
        assert west.poll() is None, "the surviving worker died"
    finally:
        stop_all(east, west)
    # a worker stopped cleanly clears its presence (no Last Will needed)
    assert wait_for(lambda: observer.snapshot()[0] == {}, 10)


def test_a_hung_worker_is_taken_over_after_the_keepalive(
    mosquitto: MosquittoServer, observer: Observer, clips: Path, tmp_path: Path
) -> None:
    """SIGKILL closes the dead worker's connection (the kernel does), so the broker sends its
    will at once. A host that vanishes (power, network) closes nothing: here a worker frozen by
    SIGSTOP, whose will the broker sends only after 1.5 keep-alive periods without a packet. Its
    cameras move within the stated time, and not before the broker gave up on it."""
    north = start_worker("north", mosquitto.url, clips, tmp_path / "north.log")
    south = start_worker("south", mosquitto.url, clips, tmp_path / "south.log")
    try:
        assert wait_for(
            lambda: (
                set(observer.snapshot()[0]) == {"north", "south"}
                and observer.snapshot()[0]["north"] | observer.snapshot()[0]["south"] == ALL
            ),
            60,
        )
        north.send_signal(signal.SIGSTOP)
        hung = time.monotonic()
        assert wait_for(lambda: observer.snapshot()[0].get("south") == ALL, 30)
        took = time.monotonic() - hung
        assert 0.4 * KEEPALIVE <= took <= TAKEOVER_S + 1.0, f"takeover took {took:.1f} s"
    finally:
        north.kill()  # a stopped process can be killed
        stop_all(north, south)


def stop_all(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_bad_streams_fail_clearly_and_the_other_cameras_keep_running(
    mosquitto: MosquittoServer, observer: Observer, clips: Path, tmp_path: Path
) -> None:
    streams = {
        "good": str(clips / "a-highway.avi"),
        "corrupt": str(corrupt_file(tmp_path / "corrupt.avi")),
        "absurd": str(tiny_clip(tmp_path / "tiny.avi")),
        "refused": f"rtsp://127.0.0.1:{free_port()}/nothing",
    }
    jobs = [CameraJob(camera(name, "badtown"), url) for name, url in streams.items()]
    worker = VideoWorker(
        jobs,
        mosquitto.url,
        worker_id="solo",
        check_s=0.5,
        settle_s=0.2,
        tamper=TamperSpec(hold_s=1.0),
    )
    worker.start()
    try:
        assert wait_for(
            lambda: (
                len(worker.status()) == 4
                and all(not s.startswith("ok (0") for s in worker.status().values())
            ),
            20,
        ), worker.status()
        status = worker.status()
        expected_bad = ["badtown/corrupt", "badtown/absurd", "badtown/refused"]
        assert status["badtown/corrupt"] == "cannot open file video file (corrupt or not a video)"
        assert status["badtown/absurd"].startswith("absurd resolution 8x8")
        assert status["badtown/refused"] == "cannot open rtsp stream"
        good = worker.runners["badtown/good"]
        frames = good.frames
        assert wait_for(lambda: good.frames >= frames + 10, 10)  # still running, 5 frames/s
        assert good.error is None
        # the reasons are in the worker's presence, for whoever operates it
        assert wait_for(lambda: set(observer.errors.get("solo", {})) == set(expected_bad), 5)
        assert observer.errors["solo"]["badtown/refused"] == "cannot open rtsp stream"
        # no frames: reported offline after 3 s + hold_s; the good camera says nothing
        offline = ["camera_offline"]
        expected = {"badtown/corrupt": offline, "badtown/absurd": offline}
        expected["badtown/refused"] = offline
        assert wait_for(lambda: observer.kinds() == expected, 15), observer.kinds()
    finally:
        worker.stop()


def test_a_malformed_configuration_is_refused_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "town.yaml"
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    bad.write_text(text.replace("range_m: ", "range_m: -", 1), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "cityops.cli", "video-worker", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "configuration rejected" in run.stdout
    assert "town.yaml:" in run.stdout  # file:line:column of the problem
    assert "range_m" in run.stdout
