"""Rule engine and payload decoding: the in-memory parts of the ingest hot path.

    python -m bench.engine

Measures readings/s through ``RuleEngine.on_reading`` (1,000 sensors, threshold + rate of
change + silence on each) and through ``decode_readings`` (JSON batch of 100 -> readings), and
the cost of ``take_dirty_state`` per batch, on one core.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from cityops.domain.engine import RuleEngine
from cityops.domain.entities import LonLat, Municipality, Sector, Sensor, SensorKind, Severity
from cityops.domain.rules import (
    Comparison,
    RateOfChangeRule,
    RuleOutcome,
    SensorSelector,
    SilenceRule,
    ThresholdRule,
)
from cityops.ingest.payloads import Topic, TopicKind, decode_json, decode_readings

SENSORS = 1000
M = "bench"


def setup() -> tuple[RuleEngine, dict[str, Sensor]]:
    muni = Municipality(M, "Bench", center=LonLat(25.39, 42.62))
    sensors = [
        Sensor(
            f"s{i}",
            M,
            f"S{i}",
            SensorKind.RIVER_LEVEL,
            "m",
            LonLat(25.3 + i % 40 * 0.004, 42.58 + i // 40 * 0.003),
            0.0,
            100.0,
            60.0,
        )
        for i in range(SENSORS)
    ]
    out = RuleOutcome("flood", Sector.DISASTER, Severity.SEVERE, "High {name}")
    sel = SensorSelector(kinds=(SensorKind.RIVER_LEVEL,))
    rules = [
        ThresholdRule("high", M, out, sel, Comparison.ABOVE, 50.0, for_s=600.0, clear_value=45.0),
        RateOfChangeRule("rise", M, out, sel, change=30.0, window_s=1800.0),
        SilenceRule("silent", M, out, sel, silence_s=900.0),
    ]
    return RuleEngine(muni, rules, sensors, []), {s.id: s for s in sensors}


def bench_engine(n: int) -> dict[str, float]:
    engine, _ = setup()
    from cityops.domain.observations import Reading

    base = datetime(2026, 11, 1, tzinfo=UTC)
    readings = [
        Reading(M, f"s{i % SENSORS}", base + timedelta(seconds=i // SENSORS * 60), 10.0 + (i % 13))
        for i in range(n)
    ]
    start = time.perf_counter()
    triggers = 0
    for k in range(0, n, 100):
        for r in readings[k : k + 100]:
            triggers += len(engine.on_reading(r, r.ts))
        engine.take_dirty_state()
    seconds = time.perf_counter() - start
    return {
        "readings": n,
        "seconds": round(seconds, 3),
        "readings_per_s": round(n / seconds),
        "triggers": triggers,
    }


def bench_decode(batches: int) -> dict[str, float]:
    _, sensors = setup()
    now = datetime.now(UTC)
    payloads = [
        json.dumps(
            {
                "readings": [
                    {
                        "sensor": f"s{(b * 100 + k) % SENSORS}",
                        "value": 12.5,
                        "unit": "m",
                        "ts": (now - timedelta(seconds=b)).isoformat(),
                    }
                    for k in range(100)
                ]
            }
        ).encode()
        for b in range(batches)
    ]
    topic = Topic(M, TopicKind.GATEWAY, None)
    start = time.perf_counter()
    count = 0
    for p in payloads:
        count += len(decode_readings(decode_json(p, 1 << 20), topic, sensors, now, 5000).readings)
    seconds = time.perf_counter() - start
    return {
        "readings": count,
        "seconds": round(seconds, 3),
        "readings_per_s": round(count / seconds),
    }


def main() -> None:
    print(json.dumps({"engine": bench_engine(300_000), "decode": bench_decode(2000)}, indent=2))


if __name__ == "__main__":
    main()
