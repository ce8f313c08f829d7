"""One publish/subscribe transport for live changes: the SSE feed and MQTT both hang off it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveMessage:
    municipality: str
    event: str
    """``incident``, ``sensor`` or ``camera``."""
    data: dict[str, Any]


Listener = Callable[[Sequence[LiveMessage]], None]
"""Receives the messages of one publish call together (a batch's sensor updates are one call)."""


class LiveBus:
    """Fan-out of live changes to listeners. Thread-safe; listeners must not block."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, message: LiveMessage) -> None:
        self.publish_many([message])

    def publish_many(self, messages: Sequence[LiveMessage]) -> None:
        if not messages:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(messages)
            except Exception:  # a broken listener must not stop ingest
                log.exception("live listener failed")
