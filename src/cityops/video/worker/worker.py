"""The video worker: the cameras it may run, the share of them it does run, and the check loop.

Every ``check_s`` the worker recomputes its share (rendezvous hashing of the camera keys over the
live workers it sees on the presence topic), starts and stops camera runners to match, publishes
its presence with the cameras it runs, and lets each camera notice that frames stopped coming.

Takeover: a dead worker's presence is cleared by its Last Will and the others take its cameras at
their next check. A killed process is noticed at once (its operating system closes the
connection): about 1 s. A host that vanishes (power, network) closes nothing: the broker gives up
on it after 1.5 keep-alive periods without a packet, and Mosquitto 2.0.11 checks keep-alives late
by up to ``BROKER_CHECK_S`` (measured). So the cameras run again within ``takeover_s`` =
1.5 x keepalive + BROKER_CHECK_S + check period (+ the time to open the stream): 21 s with the
defaults (keep-alive 10 s, check 1 s).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from cityops.domain.analytics import TamperSpec
from cityops.domain.entities import Camera
from cityops.video.evidence import EvidenceConfig
from cityops.video.snapshots import AnalysedFrame
from cityops.video.worker.assign import mine
from cityops.video.worker.camera import (
    Analyzer,
    AnalyzerFactory,
    CameraJob,
    CameraRunner,
    camera_key,
    default_analyzer,
)
from cityops.video.worker.link import WorkerLink

log = logging.getLogger(__name__)

BROKER_CHECK_S = 5.0
"""How late the broker may send a vanished client's will after its keep-alive ran out (Mosquitto
2.0.11, measured with keep-alives of 2 and 5 s: 0-4.7 s)."""


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class VideoWorker:
    def __init__(
        self,
        jobs: Sequence[CameraJob],
        broker_url: str,
        *,
        worker_id: str | None = None,
        keepalive_s: int = 10,
        check_s: float = 1.0,
        settle_s: float = 1.0,
        analyzers: AnalyzerFactory = default_analyzer,
        tamper: TamperSpec | None = None,
        evidence: EvidenceConfig | None = None,
    ) -> None:
        """``settle_s``: after connecting, how long to listen for the other workers' retained
        presence before taking cameras (so a joining worker does not briefly run them all).
        ``tamper``: overrides every camera's tamper settings (hold time), e.g. for a test.
        ``evidence``: where the events' snapshots and clips go (None: none are kept)."""
        self.worker_id = worker_id or default_worker_id()
        self.link = WorkerLink(broker_url, self.worker_id, keepalive_s=keepalive_s)
        self.keepalive_s = keepalive_s
        self.check_s = check_s
        self.settle_s = settle_s
        self.analyzers = analyzers
        self.tamper = tamper
        self.evidence = evidence
        self.runners: dict[str, CameraRunner] = {}
        self._errors: dict[str, str] = {}
        self._jobs = {job.key: job for job in jobs}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def jobs(self) -> list[CameraJob]:
        with self._lock:
            return list(self._jobs.values())

    @property
    def takeover_s(self) -> float:
        """The longest a dead worker's cameras wait for another worker (without stream open)."""
        return 1.5 * self.keepalive_s + BROKER_CHECK_S + self.check_s

    def start(self) -> None:
        self.link.start()
        self._thread = threading.Thread(target=self._loop, name="cityops-video-worker", daemon=True)
        self._thread.start()

    def set_jobs(self, jobs: Sequence[CameraJob]) -> None:
        """A new configuration: changed cameras restart at the next check, removed ones stop."""
        with self._lock:
            new = {job.key: job for job in jobs}
            gone = [
                self.runners.pop(key)
                for key, runner in list(self.runners.items())
                if new.get(key) != runner.job
            ]
            self._jobs = new
        _stop_all(gone)

    def status(self) -> dict[str, str]:
        """Each running camera: ``ok`` with its frame count, or the reason it has no frames."""
        with self._lock:
            return {
                key: r.error or f"ok ({r.frames} frames)" for key, r in sorted(self.runners.items())
            }

    def analysed(self, camera: Camera) -> AnalysedFrame | None:
        """The latest frame this worker analysed of ``camera`` (None: not running here)."""
        with self._lock:
            runner = self.runners.get(camera_key(camera))
        return runner.latest if runner is not None else None

    def check(self) -> None:
        """Run exactly this worker's share of the cameras; tell the others which."""
        with self._lock:
            wanted = mine(self.worker_id, self._jobs, self.link.peers())
            changed = wanted != set(self.runners)
            gone = [self.runners.pop(key) for key in set(self.runners) - wanted]
            for key in wanted - set(self.runners):
                job = self._jobs[key]
                runner = CameraRunner(
                    job,
                    self.link.publish,
                    self._analyzer(job),
                    tamper=self.tamper,
                    worker_id=self.worker_id,
                    evidence=self.evidence,
                )
                self.runners[key] = runner
                runner.start()
            runners = list(self.runners.values())
            errors = {key: r.error for key, r in self.runners.items() if r.error is not None}
        _stop_all(gone)
        if changed:
            log.info("video worker %s runs %d cameras", self.worker_id, len(wanted))
        if changed or errors != self._errors:
            self._errors = errors
            self.link.presence(sorted(wanted), errors)
        now = datetime.now(UTC)
        for runner in runners:
            runner.tick(now)

    def _analyzer(self, job: CameraJob) -> Analyzer | None:
        try:
            return self.analyzers(job.camera, job.timezone)
        except Exception:  # a bad analytics setup leaves the camera's health watched
            log.exception("camera %s: cannot build its analytics; health only", job.key)
            return None

    def _loop(self) -> None:
        self.link.connected.wait(30.0)
        if self._stop.wait(self.settle_s):
            return
        while True:
            try:
                self.check()
            except Exception:  # the loop must outlive any one bad check
                log.exception("video worker check failed")
            if self._stop.wait(self.check_s):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            runners = list(self.runners.values())
            self.runners.clear()
        _stop_all(runners)
        self.link.stop()


def _stop_all(runners: Sequence[CameraRunner]) -> None:
    """Stop runners together (each may be blocked up to a read timeout in its stream)."""
    for runner in runners:
        runner.request_stop()
    for runner in runners:
        runner.stop()
