"""Figures of bench/ingest.py: percentiles, the CityOps/ceiling ratio, a process's peak memory,
and the readable summary printed after the JSON document."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``p`` % of the values at or
    below it (p99 of 200 samples is the 198th smallest)."""
    if not values:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} outside (0, 100]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_figures(ms: Sequence[float], missing: int = 0) -> dict[str, float | None]:
    """p50, p99 and max of the latencies; ``missing`` samples never arrived and count as
    infinitely late (a figure they reach is None)."""
    values = [*ms, *[math.inf] * missing]
    if not values:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}

    def shown(v: float) -> float | None:
        return round(v, 1) if math.isfinite(v) else None

    return {
        "p50_ms": shown(percentile(values, 50)),
        "p99_ms": shown(percentile(values, 99)),
        "max_ms": shown(max(values)),
    }


def ratio(cityops: float, ceiling: float) -> float | None:
    """CityOps's rate as a fraction of the ceiling's (None without a ceiling)."""
    return round(cityops / ceiling, 3) if ceiling > 0 else None


def alternation(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The headline of alternating rounds, each ``{"ceiling": {"messages_per_s"..},
    "cityops": {"readings_per_s"..}}``: medians of both, the ratio of the medians, and each
    round's own ratio (neighbouring measurements share the machine's state)."""
    ceil = [float(r["ceiling"]["messages_per_s"]) for r in rounds]
    city = [float(r["cityops"]["readings_per_s"]) for r in rounds]
    return {
        "ceiling_per_s": ceil,
        "cityops_per_s": city,
        "ceiling_median": statistics.median(ceil),
        "cityops_median": statistics.median(city),
        "ratio": ratio(statistics.median(city), statistics.median(ceil)),
        "ratio_per_round": [ratio(c, m) for c, m in zip(city, ceil, strict=True)],
        "lost": sum(
            int(r["cityops"].get("lost", 0)) + int(r["ceiling"].get("lost", 0)) for r in rounds
        ),
    }


def achieved(target: float, actual: float, tolerance: float = 0.05) -> bool:
    """Whether ``actual`` came within ``tolerance`` (a fraction) of ``target``."""
    return actual >= target * (1 - tolerance)


# -- memory --------------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def rss_mb(pid: int) -> float | None:
    """The process's resident memory now, MB (Linux: /proc/<pid>/status VmRSS)."""
    kb = _status_kb(pid, "VmRSS")
    return round(kb / 1024, 1) if kb is not None else None


def peak_rss_mb(pid: int) -> float | None:
    """The most resident memory the process had since it started or since
    :func:`reset_peak_rss` (VmHWM: the kernel's own high-water mark, no sample missed)."""
    kb = _status_kb(pid, "VmHWM")
    return round(kb / 1024, 1) if kb is not None else None


def reset_peak_rss(pid: int) -> bool:
    """Start the high-water mark again from the present RSS (``clear_refs`` 5, Linux 4.0+);
    False where not allowed (the figure is then the peak since the process started)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# -- summary -------------------------------------------------------------------------------


def _n(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else str(value)


def summary(result: dict[str, Any]) -> str:
    """What a person reads first; the JSON document above it has everything."""
    settings = result.get("store_settings")
    store = f"{result.get('store')}: {settings}" if settings else str(result.get("store"))
    out = [f"== bench/ingest, mode {result['mode']} ({store})"]
    head = result.get("ceiling")
    if head:
        out.append(
            f"HEADLINE: CityOps stores {_n(head['cityops_median'])} single-reading messages/s, "
            f"the do-nothing subscriber receives {_n(head['ceiling_median'])}/s: "
            f"ratio {head['ratio']} (per round {head['ratio_per_round']}), "
            f"{_n(head['lost'])} lost in all rounds"
        )
    for key, label in (("throughput", "batched"), ("throughput_single", "single-reading")):
        if key in result:
            r = result[key]
            out.append(
                f"{label}: {_n(r['readings_per_s'])} readings/s, {_n(r['lost'])} lost, "
                f"peak RSS {r.get('peak_rss_mb')} MB"
            )
    for lat in result.get("latency", []):
        out.append(
            f"latency at {_n(lat['background_target_per_s'])}/s, "
            f"feed {lat.get('live_feed', 'all')} (achieved: "
            f"{lat['background_achieved']}, published {_n(lat['background_published_per_s'])}/s,"
            f" stored {_n(lat['background_stored_per_s'])}/s): p50 {lat['p50_ms']} ms, "
            f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms, "
            f"{lat['received']}/{lat['samples']} received"
        )
        split = lat.get("publish_to_batch_start_ms"), lat.get("batch_start_to_feed_ms")
        if split[0] and split[1]:
            out.append(
                f"  of which publish -> server batch start p50/p99 {split[0]['p50_ms']}/"
                f"{split[0]['p99_ms']} ms, batch start -> feed {split[1]['p50_ms']}/"
                f"{split[1]['p99_ms']} ms"
            )
    if "backlog" in result:
        b = result["backlog"]
        if "skipped" in b or "error" in b:
            out.append(f"backlog: {b.get('skipped') or b['error']}")
        else:
            out.append(
                f"backlog of {_n(b['messages'])}: drained in {b['drain_s']} s "
                f"({_n(b['readings_per_s'])}/s), {_n(b['lost'])} lost, "
                f"peak RSS {b['drain_peak_rss_mb']} MB while draining "
                f"({b.get('startup_peak_rss_mb')} MB starting)"
            )
    scale = result.get("scaling", {})
    if "skipped" in scale or "error" in scale:
        out.append(f"scaling: {scale.get('skipped') or scale['error']}")
    for step in scale.get("steps", []):
        out.append(
            f"scaling, {step['processes']} ingest process(es): "
            f"{_n(step['readings_per_s'])} readings/s, {_n(step['lost'])} lost"
        )
    if "peak_rss_mb" in result:
        out.append(f"server peak RSS over the whole run: {result['peak_rss_mb']} MB")
    return "\n".join(out)
