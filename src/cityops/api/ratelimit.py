"""Token buckets per client, in memory (one process serves the API).

Each client (a login's address, an ingest client's account) has a bucket of ``burst`` tokens
refilled at ``rate`` per second; a request takes one token or is told how long to wait. The
number of clients remembered is bounded: the least recently seen are forgotten first (a
forgotten client starts again with a full bucket, which only ever errs towards letting it in).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        """``rate`` tokens per second (0: no limit at all), ``burst`` tokens at most."""
        if rate < 0 or burst < 1 or max_clients < 1:
            raise ValueError("rate >= 0, burst >= 1 and max_clients >= 1 are required")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # sync routes run on the thread pool

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0.0 when allowed, else the seconds until one is free."""
        if self.rate == 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait
