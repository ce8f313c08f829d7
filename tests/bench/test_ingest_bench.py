"""bench/ingest.py's logic at small sizes: the figures it computes, the streams it sends, the
durable PostgreSQL it measures against, and the do-nothing subscriber that sets the ceiling."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bench.ingest_load
import paho.mqtt.client as mqtt
import pytest
from bench.ingest import check, parser, pg_settings
from bench.ingest_ceiling import ceiling
from bench.ingest_cluster import balanced, region, region_messages
from bench.ingest_load import Publisher, readings, wait_for, window
from bench.ingest_server import max_queued, store_settings
from bench.ingest_stats import (
    achieved,
    alternation,
    latency_figures,
    peak_rss_mb,
    percentile,
    ratio,
    reset_peak_rss,
    rss_mb,
    summary,
)
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from cityops.bus.mosquitto_conf import BrokerFiles, render_config
from tests.harness import MosquittoServer, PostgresServer, postgres_unavailable_reason


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=300), st.floats(0.01, 100))
def test_percentile_is_the_nearest_rank(values: list[float], p: float) -> None:
    got = percentile(values, p)
    assert got in values
    at_or_below = sum(v <= got for v in values)
    below = sum(v < got for v in values)
    assert at_or_below >= p / 100 * len(values) - 1e-9
    assert below < p / 100 * len(values) + 1e-9


def test_percentile_figures() -> None:
    ms = [float(v) for v in range(1, 201)]  # 1..200
    assert percentile(ms, 50) == 100.0
    assert percentile(ms, 99) == 198.0
    assert latency_figures(ms) == {"p50_ms": 100.0, "p99_ms": 198.0, "max_ms": 200.0}
    # a sample that never arrived is later than any that did
    assert latency_figures(ms[:199], missing=1) == {
        "p50_ms": 100.0,
        "p99_ms": 198.0,
        "max_ms": None,
    }
    assert latency_figures(ms[:190], missing=10)["p99_ms"] is None
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_the_headline_is_the_ratio_of_the_medians() -> None:
    rounds = [
        {"ceiling": {"messages_per_s": c, "lost": 0}, "cityops": {"readings_per_s": s, "lost": x}}
        for c, s, x in ((12_000, 6_000, 0), (10_000, 4_000, 3), (14_000, 5_000, 0))
    ]
    head = alternation(rounds)
    assert head["ceiling_median"] == 12_000
    assert head["cityops_median"] == 5_000
    assert head["ratio"] == round(5_000 / 12_000, 3)
    assert head["ratio_per_round"] == [0.5, 0.4, round(5 / 14, 3)]
    assert head["lost"] == 3
    assert ratio(1.0, 0.0) is None
    text = summary({"mode": "supervised", "store": "SQLite", "ceiling": head})
    assert "ratio 0.417" in text
    assert "12,000" in text


def test_achieved_allows_five_percent() -> None:
    assert achieved(5_000, 4_750)
    assert not achieved(5_000, 4_749)


@given(st.integers(1, 3_000), st.integers(1, 150), st.integers(1, 50))
def test_a_stream_sends_every_reading_once_inside_its_window(
    total: int, batch: int, sensors: int
) -> None:
    win = window(total, 1.0, sensors)
    messages = list(readings(total, batch, win, sensors))
    flat = [r for m in messages for r in m]
    assert len(flat) == total
    assert all(1 <= len(m) <= batch for m in messages)
    keys = Counter((r["sensor"], r["ts"]) for r in flat)
    assert max(keys.values()) == 1  # no duplicate the store would keep once
    assert all(win.start.timestamp() <= int(r["ts"]) < win.end.timestamp() for r in flat)  # type: ignore[call-overload]
    assert all(float(r["value"]) < 50 for r in flat)  # type: ignore[arg-type]


def test_the_region_stream_goes_round_robin_over_the_towns() -> None:
    towns = region(8)
    base = datetime(2026, 12, 1, tzinfo=UTC)
    msgs = list(region_messages(towns, 125, 8 * 125 * 2, base))
    assert [t for t, _ in msgs[:8]] == [f"cityops/town{i}/readings" for i in range(8)]
    per_town = Counter(t for t, _ in msgs)
    assert set(per_town.values()) == {250}
    keys = Counter((t, r["sensor"], r["ts"]) for t, r in msgs)
    assert max(keys.values()) == 1
    assert max(int(r["ts"]) for _, r in msgs) == int((base + timedelta(seconds=1)).timestamp())  # type: ignore[call-overload]


def test_the_queue_cap_is_read_from_the_config(tmp_path: Path) -> None:
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(render_config(BrokerFiles(tmp_path), "127.0.0.1", 1883, anonymous=False))
    assert max_queued(conf) is not None
    conf.write_text("listener 1883\n")
    assert max_queued(conf) == 1000  # Mosquitto's default
    conf.write_text("max_queued_messages 0\n")
    assert max_queued(conf) == 0
    assert max_queued(None) is None


def test_peak_rss_is_the_high_water_mark_and_resets() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "b = bytearray(150 * 1024 * 1024)\n"
            "del b\n"
            "print('freed', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "freed"
        now, peak = rss_mb(child.pid), peak_rss_mb(child.pid)
        assert now is not None
        assert peak is not None
        assert peak >= 150 > now
        if reset_peak_rss(child.pid):
            after = peak_rss_mb(child.pid)
            assert after is not None
            assert after < 150
    finally:
        child.kill()
        child.wait()
    assert peak_rss_mb(child.pid) is None  # gone


def test_the_cli_defaults_are_issue_11s_sizes() -> None:
    args = parser().parse_args([])
    assert args.rates == [1000, 5000]
    assert args.backlog == 1_000_000
    assert args.scaling == [1, 2, 4]
    assert args.pg_durable == "on"
    assert (args.municipalities, args.sensors_per_municipality) == (8, 125)
    assert pg_settings(args.pg_setting) == {}


def test_postgres_settings_are_key_value_pairs() -> None:
    ap = parser()
    args = ap.parse_args(["--pg-setting", "wal_init_zero=off", "--pg-setting", "a=b=c"])
    check(ap, args)
    assert pg_settings(args.pg_setting) == {"wal_init_zero": "off", "a": "b=c"}
    for bad in ("wal_init_zero", "=off"):
        with pytest.raises(SystemExit):
            check(ap, ap.parse_args(["--pg-setting", bad]))


@pytest.mark.postgres
def test_durable_postgres_keeps_fsync_on(pg_url: str) -> None:
    assert store_settings(pg_url)["fsync"] == "off"  # the test default: durability off
    if reason := postgres_unavailable_reason():
        pytest.skip(reason)
    with PostgresServer(durable=True) as pg:
        shown = store_settings(pg.url)
    assert shown["fsync"] == shown["synchronous_commit"] == shown["full_page_writes"] == "on"


@pytest.mark.mosquitto
def test_the_ceiling_subscriber_receives_and_counts_every_message() -> None:
    with MosquittoServer() as broker:
        start = time.perf_counter()
        got = ceiling(broker.url, broker.url, "bench-ceiling-test", 2_000, 4.0)
    assert got["received"] == 2_000
    assert got["lost"] == 0
    assert 0 < got["seconds"] < time.perf_counter() - start
    assert got["messages_per_s"] == pytest.approx(2_000 / got["seconds"], rel=0.01)


@pytest.mark.mosquitto
def test_the_publisher_keeps_its_window_and_every_message_arrives_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bench's publisher has no network thread: it must read its PUBACKs itself, never
    have more than INFLIGHT messages unacknowledged, and lose or repeat nothing."""
    monkeypatch.setattr(bench.ingest_load, "INFLIGHT", 7)
    got: list[bytes | bytearray] = []
    with MosquittoServer() as broker:
        sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub-test-sub")
        sub.on_message = lambda _c, _u, msg: got.append(msg.payload)
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe("bench/pub/#", qos=1)
        sub.loop_start()
        try:
            time.sleep(0.5)
            pub = Publisher(broker.url)
            widest = 0
            for i in range(1_500):
                pub.publish("bench/pub/x", str(i))
                widest = max(widest, pub.sent - pub.acked)
            assert pub.wait_acked(30)
            few = pub.sent
            for i in range(1_500, 1_503):  # fewer than PUMP_EVERY: only pump() reads their acks
                pub.publish("bench/pub/x", str(i))
            pub.pump(1.0)
            assert pub.acked == few + 3
            pub.close()
            wait_for(lambda: len(got), 1_503, stall_s=30)
        finally:
            sub.loop_stop()
            sub.disconnect()
    assert widest == 7
    assert sorted(int(p) for p in got) == list(range(1_503))


def test_partitions_are_balanced_only_when_every_process_holds_its_share() -> None:
    assert balanced({"a": 2, "b": 2, "c": 2, "d": 2}, 4, 8)
    assert balanced({"a": 3, "b": 3, "c": 2}, 3, 8)
    assert not balanced({"a": 8}, 2, 8)  # the second process holds nothing yet
    assert not balanced({"a": 3, "b": 1}, 2, 4)  # lopsided
    assert not balanced({"a": 2, "b": 1}, 2, 4)  # a partition without a live owner


def test_the_summary_names_what_failed_or_was_skipped() -> None:
    text = summary(
        {
            "mode": "embedded",
            "backlog": {"skipped": "amqtt keeps no queue"},
            "scaling": {"error": "RuntimeError: no ingest"},
        }
    )
    assert "backlog: amqtt keeps no queue" in text
    assert "scaling: RuntimeError: no ingest" in text


def test_waiting_ends_at_the_target_or_when_progress_stops() -> None:
    counts = iter(range(0, 1_000, 10))
    assert wait_for(lambda: next(counts), 50, poll=0.001) == (50, True)
    start = time.monotonic()
    assert wait_for(lambda: 7, 50, poll=0.01, stall_s=0.2) == (7, False)
    assert 0.2 <= time.monotonic() - start < 5
