"""The server's memory while it works off a backlog (bench/ingest.py, issue 11: "the server's
memory bounded (report peak RSS during a 1,000,000-message backlog)").

With the server down and the broker up, a gateway publishes ``total`` single-reading messages
at QoS 1 into the broker; they queue for the ingest's persistent session. Then the server
starts and drains them. Reported: how long the publish took, the time from the server's launch
to the last reading stored (and the rate from the first stored readings seen), the readings lost
(published minus stored), the server's peak RSS (VmHWM, the kernel's high-water mark) from its
start to its first stored reading and from there to the end of the drain, and its RSS every
few seconds.

How the server is taken down depends on the broker: the harness's Mosquitto runs on its own,
so the server stops cleanly; the Mosquitto that CityOps supervises stops with a clean stop, so
the server is killed (SIGKILL) and the restarted one adopts the broker, queue and all. The
embedded amqtt broker lives inside the server and keeps nothing: no backlog can outlive it.
"""

from __future__ import annotations

import time
from typing import Any

from bench.ingest_load import Accepted, Publisher, count_window, publish_all, readings, wait_for
from bench.ingest_load import window as stream_window
from bench.ingest_server import MUNI, Setup, max_queued
from bench.ingest_stats import peak_rss_mb, reset_peak_rss, rss_mb
from cityops.store.db import make_engine

RSS_EVERY_S = 5.0


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

    accepted = Accepted(s.http_port, s.token)
    launched = time.perf_counter()
    s.server.launch()
    pid = s.server.pid
    first: list[tuple[float, int]] = []  # when the first stored readings were seen, how many
    samples: list[tuple[float, float | None]] = []

    def progress() -> int:
        n = accepted.or_zero()
        now = time.perf_counter() - launched
        if n and not first:
            first.append((now, n))
            out["startup_peak_rss_mb"] = peak_rss_mb(pid)  # imports, configuration
            reset_peak_rss(pid)  # from here: the drain's own
        if not samples or now - samples[-1][0] >= RSS_EVERY_S:
            samples.append((round(now, 1), rss_mb(pid)))
        return n

    _, drained = wait_for(progress, total, poll=0.25, stall_s=120)
    drain_s = time.perf_counter() - launched
    out["drain_peak_rss_mb"] = peak_rss_mb(pid)
    out["peak_rss_mb"] = max(
        (mb for mb in (out.get("startup_peak_rss_mb"), out["drain_peak_rss_mb"]) if mb),
        default=None,
    )
    out["rss_mb_every_5s"] = [mb for _, mb in samples]
    s.server.wait_ready()
    db = make_engine(s.db_url)
    stored = count_window(db, win)
    db.dispose()
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
