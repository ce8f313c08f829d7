"""Multi-process scaling (bench/ingest.py ``--scaling``; issue 11 item 3): stored readings/s
with 1, 2, 4 `cityops ingest` processes on one Mosquitto and one PostgreSQL.

Each step starts afresh: its own Mosquitto (no sessions left over from the step before), its
own database on the shared PostgreSQL server (durable unless ``--pg-durable off``), a region of
``municipalities`` towns of ``sensors`` gauges each (the partition is the municipality), and N
`cityops ingest` processes (``python -m cityops.cli ingest`` plus ``--ingest-args``), each with
a data directory of its own. The broker is secured as in production (docs/SCALING.md
"Partition credentials"): no anonymous clients, ``use_username_as_clientid``, each partition's
session logging in as its own user with a password derived from the step's ingest secret, in
the password and ACL files that `cityops mqtt sync` writes (bus/mosquitto.py); the publisher
is one credential allowed to write every town's batch topic. The processes run in development
mode.

Before the clock starts: the partitions are spread over all N processes (``ingest_partitions``:
every one held, no process with two more than another), then one reading per municipality is
sent again every second until each has been stored (every partition's session is live), then
``settle_s`` seconds pass. Then one publisher sends
``messages`` single-reading messages at QoS 1, round-robin over the municipalities; the rate
runs from the first publish to the last reading stored (counted in the database).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from tests.harness import MosquittoServer, PostgresServer

from bench.ingest_load import Publisher, Window, count_window, wait_for
from bench.ingest_server import import_town, store_settings
from bench.ingest_stats import peak_rss_mb
from cityops.bus.mosquitto import acl_file, password_file
from cityops.domain.device_secret import hash_secret
from cityops.mqtt_url import with_credentials
from cityops.services.partition_users import partition_users
from cityops.store.db import make_engine, upgrade


def region(municipalities: int) -> list[str]:
    return [f"town{i}" for i in range(municipalities)]


def region_messages(
    towns: Sequence[str], sensors: int, total: int, base: datetime
) -> Iterator[tuple[str, dict[str, object]]]:
    """(topic, one reading) round-robin over the towns, then their sensors; one second apart
    per sensor."""
    for j in range(total):
        town, rest = towns[j % len(towns)], j // len(towns)
        yield (
            f"cityops/{town}/readings",
            {
                "sensor": f"s{rest % sensors}",
                "value": 1.0 + (j % 7) * 0.1,
                "ts": int(base.timestamp()) + rest // sensors,
            },
        )


def _warm_up(pub: Publisher, db_url: str, towns: Sequence[str], timeout: float) -> float:
    """Seconds until every town has a stored reading (sent again each second until then)."""
    db = make_engine(db_url)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    win = Window(base, base + timedelta(seconds=int(timeout) + 2))
    start = time.perf_counter()
    waiting = list(towns)
    try:
        for k in range(int(timeout)):
            for town in waiting:
                doc = {
                    "readings": [{"sensor": "s0", "value": 1.0, "ts": int(base.timestamp()) + k}]
                }
                pub.publish(f"cityops/{town}/readings", json.dumps(doc))
            pub.pump(1.0)
            waiting = [t for t in waiting if not count_window(db, win, t)]
            if not waiting:
                return time.perf_counter() - start
    finally:
        db.dispose()
    raise RuntimeError(f"no ingest process stored readings of {waiting} in {timeout:.0f} s")


def owners(db_url: str) -> dict[str, int] | None:
    """Partitions per live owner (A's ``ingest_partitions``), or None where it cannot be read."""
    db = make_engine(db_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT owner, count(*) FROM ingest_partitions "
                    "WHERE owner IS NOT NULL AND lease_until > now() GROUP BY owner"
                )
            ).all()
        return {str(owner): int(n) for owner, n in rows}
    except SQLAlchemyError:
        return None
    finally:
        db.dispose()


def balanced(held: dict[str, int], processes: int, partitions: int) -> bool:
    """Every partition held, by ``processes`` owners, none with two more than another."""
    counts = list(held.values())
    return len(counts) == processes and sum(counts) == partitions and max(counts) - min(counts) <= 1


def _wait_balanced(db_url: str, processes: int, partitions: int, timeout: float) -> float | None:
    """Seconds until the partitions are spread over all processes (None: not readable)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        held = owners(db_url)
        if held is None:
            return None
        if balanced(held, processes, partitions):
            return time.perf_counter() - start
        time.sleep(0.5)
    raise RuntimeError(f"partitions not spread over {processes} processes: {owners(db_url)}")


@contextlib.contextmanager
def _ingest_processes(
    n: int, env: dict[str, str], workdir: Path, extra: Sequence[str]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(n):
            data = workdir / f"ingest-{i}"
            data.mkdir(exist_ok=True)
            log = (workdir / f"ingest-{i}.log").open("ab")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "cityops.cli", "ingest", *extra],
                    env=env | {"CITYOPS_DATA_DIR": str(data)},
                    stdout=log,
                    stderr=log,
                )
            )
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


@dataclass(frozen=True)
class Plan:
    """What each step runs: ``municipalities`` towns (partitions) of ``sensors`` gauges,
    ``messages`` timed single-reading messages after ``settle_s``; ``extra``: arguments added
    to `cityops ingest`."""

    municipalities: int = 8
    sensors: int = 125
    messages: int = 200_000
    settle_s: float = 5.0
    extra: tuple[str, ...] = ()


def logs_tail(workdir: Path, limit: int = 1500) -> str:
    """The end of each ingest process's log (the work directory goes with the run)."""
    return "\n".join(
        f"--- {log.name}:\n{log.read_text(errors='replace')[-limit:]}"
        for log in sorted(workdir.glob("ingest-*.log"))
    )


def secure(broker: MosquittoServer, db_url: str, ingest_secret: str) -> str:
    """Fill the secured broker's files: every town's partition user, as `cityops mqtt sync`
    writes them, and a publisher that may write every town's batch topic; reload. The
    publisher's URL."""
    db = make_engine(db_url)
    with db.connect() as conn:
        users = partition_users(conn, ingest_secret, "cityops-ingest", [])
    db.dispose()
    name, password = "bench-publisher", secrets.token_urlsafe(24)
    broker.password_path.write_text(
        password_file([], users) + f"{name}:{hash_secret(password)}\n", encoding="utf-8"
    )
    broker.acl_path.write_text(
        acl_file([], users) + f"\nuser {name}\ntopic write cityops/+/readings\n", encoding="utf-8"
    )
    broker.reload()
    time.sleep(0.5)  # SIGHUP is asynchronous
    return with_credentials(broker.url, name, password)


def step(pg: PostgresServer, workdir: Path, processes: int, plan: Plan) -> dict[str, Any]:
    try:
        return _step(pg, workdir, processes, plan)
    except Exception as err:
        raise RuntimeError(f"{processes} process(es): {err}\n{logs_tail(workdir)}") from err


def _step(pg: PostgresServer, workdir: Path, processes: int, plan: Plan) -> dict[str, Any]:
    towns, sensors, messages = region(plan.municipalities), plan.sensors, plan.messages
    with MosquittoServer(max_queued_messages=0, secured=True) as broker:
        db_url = pg.create_database(f"scale_{uuid.uuid4().hex[:8]}")
        upgrade(db_url)
        ingest_secret = secrets.token_urlsafe(32)
        env = dict(
            os.environ,
            CITYOPS_LOG_LEVEL="WARNING",
            CITYOPS_ENV="development",
            CITYOPS_DATABASE_URL=db_url,
            CITYOPS_MQTT_URL=broker.url,
            CITYOPS_INGEST_SECRET=ingest_secret,
        )
        for town in towns:
            import_town(db_url, workdir, town, sensors)
        publisher_url = secure(broker, db_url, ingest_secret)
        with _ingest_processes(processes, env, workdir, plan.extra) as procs:
            balance_s = _wait_balanced(db_url, processes, len(towns), timeout=120)
            pub = Publisher(publisher_url)
            warm_s = _warm_up(pub, db_url, towns, timeout=180)
            time.sleep(plan.settle_s)
            held = owners(db_url)
            for p in procs:
                if p.poll() is not None:
                    raise RuntimeError(f"an ingest process exited ({p.returncode})")
            base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
            win = Window(base, base + timedelta(seconds=messages // (len(towns) * sensors) + 1))
            db = make_engine(db_url)
            start = time.perf_counter()
            for topic, reading in region_messages(towns, sensors, messages, base):
                pub.publish(topic, json.dumps({"readings": [reading]}))
            pub.wait_acked()
            published_s = time.perf_counter() - start
            _, complete = wait_for(lambda: count_window(db, win, None), messages, poll=0.5)
            elapsed = time.perf_counter() - start
            stored = count_window(db, win, None)
            db.dispose()
            pub.close()
            rss = [peak_rss_mb(p.pid) for p in procs]
    return {
        "processes": processes,
        "messages": messages,
        "balanced_after_s": round(balance_s, 1) if balance_s is not None else None,
        "partitions_per_process": held,
        "store_settings": store_settings(db_url),
        "warm_up_s": round(warm_s, 1),
        "publish_s": round(published_s, 1),
        "seconds": round(elapsed, 1),
        "complete": complete,
        "stored": stored,
        "lost": messages - stored,
        "readings_per_s": round(min(stored, messages) / elapsed),
        "peak_rss_mb_per_process": rss,
    }


def scaling(
    workdir: Path,
    steps: Sequence[int],
    plan: Plan,
    *,
    pg_durable: bool,
    pg_settings: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    with PostgresServer(durable=pg_durable, settings=pg_settings) as pg:
        results = [step(pg, workdir, n, plan) for n in steps]
    one = results[0]["readings_per_s"] if results and results[0]["processes"] == 1 else None
    for r in results:
        r["speed_up"] = round(r["readings_per_s"] / one, 2) if one else None
    return {
        "municipalities": plan.municipalities,
        "sensors_per_municipality": plan.sensors,
        "pg_durable": pg_durable,
        "steps": results,
    }
