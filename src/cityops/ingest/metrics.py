"""Counters of the ingest path, exposed at /api/v1/metrics (JSON and Prometheus text)."""

from __future__ import annotations

import statistics
import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class _Outcome(Protocol):
    @property
    def accepted(self) -> int: ...
    @property
    def rejections(self) -> Sequence[object]: ...


@dataclass
class IngestMetrics:
    messages_queued: int = 0
    messages_done: int = 0
    items_accepted: int = 0
    items_rejected: int = 0
    batches: int = 0
    failed_transactions: int = 0
    incidents_created: int = 0
    worker_restarts: int = 0
    dead_letters_pruned: int = 0
    last_batch_seconds: float = 0.0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    lag_ms: deque[float] = field(default_factory=lambda: deque(maxlen=5000))
    """Receipt-to-commit time of the latest messages: CityOps's own delay only (a message
    waiting in the broker's queue is not in it)."""
    data_age_ms: deque[float] = field(default_factory=lambda: deque(maxlen=5000))
    """Commit time minus the reading's own timestamp, for the latest readings: how old the data
    is when an operator can first see it (a backlog in the broker makes it grow)."""
    last_data_age_s: float | None = None
    """Median data age of the last batch that held readings."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def queued(self, n: int) -> None:
        with self._lock:
            self.messages_queued += n

    def batch_done(
        self,
        messages: int,
        outcomes: Sequence[_Outcome],
        seconds: float,
        lags_ms: Sequence[float] = (),
        data_ages_ms: Sequence[float] = (),
    ) -> None:
        with self._lock:
            self.lag_ms.extend(lags_ms)
            self.data_age_ms.extend(data_ages_ms)
            if data_ages_ms:
                self.last_data_age_s = statistics.median(data_ages_ms) / 1000
            self.batches += 1
            self.messages_done += messages
            self.last_batch_seconds = seconds
            for o in outcomes:
                self.items_accepted += o.accepted
                self.items_rejected += len(o.rejections)
                for rej in o.rejections:
                    self.rejected_by_reason[str(getattr(rej, "reason", "unknown"))] += 1

    def worker_restarted(self) -> None:
        with self._lock:
            self.worker_restarts += 1

    def dead_letters_pruned_add(self, n: int) -> None:
        with self._lock:
            self.dead_letters_pruned += n

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "messages_queued": self.messages_queued,
                "messages_done": self.messages_done,
                "items_accepted": self.items_accepted,
                "items_rejected": self.items_rejected,
                "batches": self.batches,
                "failed_transactions": self.failed_transactions,
                "incidents_created": self.incidents_created,
                "worker_restarts": self.worker_restarts,
                "dead_letters_pruned": self.dead_letters_pruned,
                "last_batch_seconds": round(self.last_batch_seconds, 6),
                "rejected_by_reason": dict(self.rejected_by_reason),
                "lag_ms": _percentiles(self.lag_ms),
                "data_age_ms": _percentiles(self.data_age_ms),
            }


def _percentiles(values: deque[float]) -> dict[str, float]:
    if len(values) < 2:
        return {}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 2), "p99": round(cuts[98], 2), "max": round(max(values), 2)}
