"""The server's memory while it works off a backlog (bench/ingest.py, issue 11: "the server's
memory bounded (report peak RSS during a 1,000,000-message backlog)").

With the server down and the broker up, a gateway publishes ``total`` single-reading messages
at QoS 1 into the broker; they queue for the ingest's persistent session. Then the server
starts and drains them. Reported: how long the publish took, the time from the server's launch
to the last reading stored (and the rate from the first stored readings seen), the readings lost
(published minus stored), the server's peak RSS (VmHWM, the kernel's high-water mark) from its
start to its first stored reading and from there to the end of the drain, and its RSS every
few seconds. So that heap is told apart from mapped files, the drain also reports the largest
RssAnon (heap: Python objects, malloc), RssFile (mapped files: libraries, SQLite's -shm) and
RssShmem seen (/proc/<pid>/status, sampled at each poll) and the largest ``ingest_backlog``
the server reported (messages received and not yet acknowledged: what sits in its own queue).

How the server is taken down depends on the broker: the harness's Mosquitto runs on its own,
so the server stops cleanly; the Mosquitto that CityOps supervises stops with a clean stop, so
the server is killed (SIGKILL) and the restarted one adopts the broker, queue and all. The
embedded amqtt broker lives inside the server and keeps nothing: no backlog can outlive it.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import httpx

from bench.ingest_load import Accepted, Publisher, count_window, publish_all, readings, wait_for
from bench.ingest_load import window as stream_window
from bench.ingest_server import MUNI, Setup, max_queued
from bench.ingest_stats import peak_rss_mb, reset_peak_rss, rss_mb
from cityops.store.db import make_engine

RSS_EVERY_S = 5.0
PARTS = ("RssAnon", "RssFile", "RssShmem")


def rss_parts_mb(pid: int) -> dict[str, float]:
    """RssAnon, RssFile and RssShmem of /proc/<pid>/status, MB (empty when unreadable)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in PARTS:
            out[key] = round(int(rest.split()[0]) / 1024, 1)
    return out


class DrainWatch:
    """What each poll of the drain notes: the stored count, the server's own queue, its memory
    (the high-water mark is reset at the first stored reading: from there, the drain's own)."""

    def __init__(self, accepted: Accepted, pid: int, launched: float, out: dict[str, Any]):
        self.accepted, self.pid, self.launched, self.out = accepted, pid, launched, out
        self.first: list[tuple[float, int]] = []  # when the first stored readings were seen
        self.samples: list[tuple[float, float | None]] = []
        self.parts_peak: dict[str, float] = {}
        self.queue_peak = 0
        """The largest ``ingest_backlog``: received, not yet stored and acknowledged."""

    def progress(self) -> int:
        try:
            snap = self.accepted.snapshot()
            n = int(snap["items_accepted"])
            self.queue_peak = max(self.queue_peak, int(snap.get("ingest_backlog") or 0))
        except (httpx.HTTPError, KeyError, ValueError):
            n = 0  # not up yet
        now = time.perf_counter() - self.launched
        if self.first:
            for key, mb in rss_parts_mb(self.pid).items():
                self.parts_peak[key] = max(self.parts_peak.get(key, 0.0), mb)
        elif n:
            self.first.append((now, n))
            self.out["startup_peak_rss_mb"] = peak_rss_mb(self.pid)  # imports, configuration
            reset_peak_rss(self.pid)  # from here: the drain's own
        if not self.samples or now - self.samples[-1][0] >= RSS_EVERY_S:
            self.samples.append((round(now, 1), rss_mb(self.pid)))
        return n


def backlog(s: Setup, total: int, days_back: float) -> dict[str, Any]:
    if s.mode == "embedded":
        return {"skipped": "amqtt runs inside the server and keeps no queue when it stops"}
    cap = max_queued(s.broker_conf)
    out: dict[str, Any] = {"messages": total, "broker_max_queued_messages": cap}
    if cap and cap < total:
        out["warning"] = f"the broker queues at most {cap:,} messages: the rest are dropped"
    if s.mode == "supervised":
        s.server.kill()  # the supervised broker outlives it
    else:
        s.server.stop()
    win = stream_window(total, days_back)
    pub = Publisher(s.gateway_url)
    start = time.perf_counter()
    publish_all(pub, f"cityops/{MUNI}/readings", readings(total, 1, win))
    all_acked = pub.wait_acked(900)
    out["publish_s"] = round(time.perf_counter() - start, 1)
    out["all_acknowledged"] = all_acked
    pub.close()

    launched = time.perf_counter()
    s.server.launch()
    pid = s.server.pid
    watch = DrainWatch(Accepted(s.http_port, s.token), pid, launched, out)
    _, drained = wait_for(watch.progress, total, poll=0.25, stall_s=120)
    drain_s = time.perf_counter() - launched
    out["drain_peak_rss_mb"] = peak_rss_mb(pid)
    out["peak_rss_mb"] = max(
        (mb for mb in (out.get("startup_peak_rss_mb"), out["drain_peak_rss_mb"]) if mb),
        default=None,
    )
    out["rss_mb_every_5s"] = [mb for _, mb in watch.samples]
    out["drain_peak_parts_mb"] = watch.parts_peak  # sampled at each poll: heap vs mapped files
    out["drain_peak_ingest_backlog"] = watch.queue_peak
    s.server.wait_ready()
    out["accepted_at_drain_end"] = watch.accepted.or_zero()
    # the counter counts a redelivered reading again: wait for the ingest's queue to empty
    # before counting what is stored
    settle = time.monotonic() + 60
    while time.monotonic() < settle:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            if int(watch.accepted.snapshot().get("ingest_backlog") or 0) == 0:
                break
        time.sleep(0.5)
    db = make_engine(s.db_url)
    stored = count_window(db, win)
    db.dispose()
    first = watch.first
    seen_at, seen = first[0] if first else (0.0, 0)
    rest, working = min(stored, total) - seen, drain_s - seen_at
    out |= {
        "drained": drained,
        "drain_s": round(drain_s, 1),
        "first_stored_after_s": round(seen_at, 1) if first else None,
        "stored": stored,
        "lost": total - stored,
        # from the first poll that saw readings stored to the last: the drain's steady rate
        "readings_per_s": round(rest / working) if rest > 0 and working > 0 else None,
    }
    return out
