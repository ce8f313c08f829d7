"""Ingest benchmark (issue 11 "Performance"): in one run on one store, CityOps's single-reading
rate next to the ceiling of any Python consumer, the batched rate, latency at fixed rates, the
server's peak memory through a backlog, and the scaling of several ingest processes.

    python -m bench.ingest --mode supervised   # SQLite file + Mosquitto supervised by CityOps
    python -m bench.ingest --mode mosquitto    # Mosquitto + durable PostgreSQL (the harness's)
    python -m bench.ingest --mode embedded     # SQLite file + the embedded amqtt broker
    python -m bench.ingest --mode mosquitto --mqtt-auth off --pg-durable off --phases batched

`cityops serve` runs in its own process (broker -> ingest -> rules -> stored), authentication
on as in production (bench/ingest_server.py). Phases (``--phases``, all by default):

- ``batched``: ``--readings`` in messages of ``--batch``, from the first publish to the last
  stored (bench/ingest_load.py);
- ``ceiling``: ``--rounds`` alternating pairs of the single-reading stream (``--single``
  messages, one reading each, QoS 1) received by a do-nothing subscriber (bench/
  ingest_ceiling.py) and stored by CityOps; the headline is the ratio of their medians;
- ``backlog``: peak RSS while the server drains ``--backlog`` messages queued while it was
  down (bench/ingest_backlog.py);
- ``latency``: threshold reading -> incident on the live feed, p50/p99 with single-reading
  background load at each of ``--rates`` (bench/ingest_latency.py);
- ``scaling``: 1/2/4 `cityops ingest` processes on PostgreSQL (``--mode mosquitto`` only;
  bench/ingest_cluster.py).

Each phase reports the server's peak RSS (VmHWM, reset at the phase's start). The output is one
JSON document, then a readable summary.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.ingest_backlog import backlog
from bench.ingest_ceiling import ceiling
from bench.ingest_cluster import Plan, scaling
from bench.ingest_latency import BACKGROUND_FIRST, latency
from bench.ingest_load import Accepted, throughput
from bench.ingest_server import MODES, Setup, server, setup
from bench.ingest_stats import alternation, peak_rss_mb, reset_peak_rss, summary
from cityops.mqtt_url import parse_mqtt_url

__all__ = ["main", "run", "server", "throughput"]

PHASES = ("batched", "ceiling", "backlog", "latency", "scaling")


def settle(accepted: Accepted, quiet_s: float = 1.0, timeout: float = 300.0) -> None:
    """Until the server's backlog is empty and its counter has not moved for ``quiet_s``."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        try:
            snap = accepted.snapshot()
        except httpx.HTTPError:  # busy: ask again
            time.sleep(0.5)
            continue
        now = int(snap["items_accepted"])
        if now != last or snap.get("ingest_backlog"):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.2)


def measured(s: Setup, what: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one phase on the running server; add its peak RSS and let the server settle."""
    pid = s.server.pid
    reset = reset_peak_rss(pid)
    out = what()
    out["peak_rss_mb"] = peak_rss_mb(pid)
    out["peak_rss_since"] = "phase start" if reset else "server start"
    settle(Accepted(s.http_port, s.token))
    return out


def rounds(s: Setup, n: int, messages: int) -> list[dict[str, Any]]:
    """Alternating pairs: the ceiling then CityOps in even rounds, the other way in odd ones."""
    sub_id = parse_mqtt_url(s.ceiling_sub_url).username or "bench-ceiling-sub"
    accepted = Accepted(s.http_port, s.token)
    out = []
    for r in range(n):

        def city(r: int = r) -> dict[str, Any]:
            return throughput(s.db_url, s.gateway_url, messages, 1, 2.5 - 0.1 * r, accepted)

        def ceil() -> dict[str, Any]:
            return ceiling(s.ceiling_pub_url, s.ceiling_sub_url, sub_id, messages, 4.0, s.protocol)

        pair: dict[str, Any] = {"round": r}
        for name, fn in (("ceiling", ceil), ("cityops", city))[:: 1 if r % 2 == 0 else -1]:
            pair[name] = measured(s, fn) if name == "cityops" else fn()
        out.append(pair)
        print(json.dumps(pair), file=sys.stderr, flush=True)
    return out


def serve_phases(args: argparse.Namespace, workdir: Path, phases: set[str]) -> dict[str, Any]:
    """The phases on `cityops serve`, in this order (the backlog restarts the server)."""
    auth, durable = args.mqtt_auth == "on", args.pg_durable == "on"
    result: dict[str, Any] = {}
    settings = pg_settings(args.pg_setting)
    with setup(args.mode, workdir, mqtt_auth=auth, pg_durable=durable, pg_settings=settings) as s:
        result |= s.info
        peaks = [peak_rss_mb(s.server.pid)]  # start-up
        accepted = Accepted(s.http_port, s.token)
        if "batched" in phases:
            result["throughput"] = measured(
                s,
                partial(
                    throughput, s.db_url, s.gateway_url, args.readings, args.batch, 3.0, accepted
                ),
            )
            peaks.append(result["throughput"]["peak_rss_mb"])
        if "ceiling" in phases:
            pairs = rounds(s, args.rounds, args.single)
            result["rounds"] = pairs
            result["ceiling"] = alternation(pairs)
            result["throughput_single"] = pairs[-1]["cityops"]
            peaks += [p["cityops"]["peak_rss_mb"] for p in pairs]
        if "backlog" in phases and args.backlog:
            try:
                result["backlog"] = backlog(s, args.backlog, 0.5)
                peaks.append(result["backlog"].get("peak_rss_mb"))
            except Exception:
                result["backlog"] = {"error": traceback.format_exc(limit=3)}
                if s.server.proc is None:
                    s.server.start()
        if "latency" in phases:
            result["latency"] = []
            runs = [(rate, feed) for rate in args.rates for feed in args.live_feeds]
            for i, (rate, feed) in enumerate(runs):
                first = i * args.samples  # each run triggers sensors of its own
                lat = measured(
                    s,
                    partial(
                        latency,
                        s.gateway_url,
                        s.trigger_url,
                        s.http_port,
                        s.token,
                        args.samples,
                        rate,
                        first,
                        None if feed == "all" else feed,
                    ),
                )
                result["latency"].append(lat)
                peaks.append(lat["peak_rss_mb"])
        known = [p for p in peaks if p is not None]
        result["peak_rss_mb"] = max(known) if known else None
    return result


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    phases = set(args.phases)
    result: dict[str, Any] = {
        "mode": args.mode,
        "store": "PostgreSQL" if args.mode == "mosquitto" else "SQLite",
        "mqtt_auth": args.mqtt_auth,
        "pg_durable": args.pg_durable if args.mode == "mosquitto" else None,
        "arguments": vars(args),
    }
    if phases - {"scaling"}:
        result |= serve_phases(args, workdir, phases)
    if "scaling" in phases and args.mode == "mosquitto":
        plan = Plan(
            municipalities=args.municipalities,
            sensors=args.sensors_per_municipality,
            messages=args.scaling_messages,
            settle_s=args.scaling_settle_s,
            extra=tuple(shlex.split(args.ingest_args)),
        )
        try:
            durable = args.pg_durable == "on"
            result["scaling"] = scaling(
                workdir,
                args.scaling,
                plan,
                pg_durable=durable,
                pg_settings=pg_settings(args.pg_setting),
            )
        except Exception:
            result["scaling"] = {"error": traceback.format_exc(limit=3)}
    elif "scaling" in phases:
        result["scaling"] = {"skipped": "`cityops ingest` runs on PostgreSQL: --mode mosquitto"}
    return result


def pg_settings(pairs: Sequence[str]) -> dict[str, str]:
    """``--pg-setting KEY=VALUE`` (repeated) as PostgreSQL settings."""
    return dict(pair.split("=", 1) for pair in pairs)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--mode", choices=MODES, default="supervised")
    ap.add_argument("--phases", type=lambda t: t.split(","), default=list(PHASES))
    ap.add_argument("--readings", type=int, default=200_000, help="batched phase")
    ap.add_argument("--batch", type=int, default=100, help="readings per MQTT message")
    ap.add_argument("--single", type=int, default=200_000, help="messages per ceiling round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating ceiling/CityOps pairs")
    ap.add_argument("--samples", type=int, default=200, help="latency samples per rate")
    ap.add_argument("--rates", type=_ints, default=[1000, 5000], help="background messages/s")
    ap.add_argument(
        "--live-feeds",
        type=lambda t: t.split(","),
        default=["all", "incident"],
        help="latency listeners: all (the whole feed) and/or incident (?kinds=incident)",
    )
    ap.add_argument("--backlog", type=int, default=1_000_000, help="0: no backlog phase")
    ap.add_argument("--pg-durable", choices=["on", "off"], default="on")
    ap.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another PostgreSQL setting, e.g. wal_init_zero=off (repeat for more)",
    )
    ap.add_argument("--mqtt-auth", choices=["on", "off"], default="on", help="off: mosquitto")
    ap.add_argument("--scaling", type=_ints, default=[1, 2, 4], help="ingest processes")
    ap.add_argument("--scaling-messages", type=int, default=200_000)
    ap.add_argument("--municipalities", type=int, default=8)
    ap.add_argument("--sensors-per-municipality", type=int, default=125)
    ap.add_argument("--scaling-settle-s", type=float, default=5.0)
    ap.add_argument("--ingest-args", default="", help="extra arguments of `cityops ingest`")
    return ap


def check(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if unknown := set(args.phases) - set(PHASES):
        ap.error(f"unknown phases {sorted(unknown)}; known: {','.join(PHASES)}")
    if args.mqtt_auth == "off" and args.mode != "mosquitto":
        ap.error("--mqtt-auth off needs --mode mosquitto")
    if bad := [p for p in args.pg_setting if "=" not in p or not p.split("=", 1)[0]]:
        ap.error(f"--pg-setting wants KEY=VALUE, got {bad}")
    if not 1 <= args.rounds <= 10:
        ap.error("--rounds: 1 to 10")
    if unknown := set(args.live_feeds) - {"all", "incident"}:
        ap.error(f"unknown --live-feeds {sorted(unknown)}; known: all,incident")
    if args.samples * len(args.rates) * len(args.live_feeds) > BACKGROUND_FIRST:
        ap.error(f"--samples x --rates x --live-feeds: at most {BACKGROUND_FIRST} trigger sensors")


def main() -> None:
    ap = parser()
    args = ap.parse_args()
    check(ap, args)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args, Path(tmp))
    print(json.dumps(result, indent=2, default=str))
    print(summary(result))


if __name__ == "__main__":
    main()
