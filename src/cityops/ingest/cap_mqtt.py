"""CAP 1.2 alerts over MQTT: a CAP document published on ``cityops/<municipality>/cap`` (QoS 1)
takes the path of a pushed one (``CapFeedPoller.accept``: checked, applied to that
municipality's book, stored, what opens or updates a warning submitted to the pipeline).

The check (schema, rules, an XML signature) takes milliseconds, so it runs on a thread of its
own, not the MQTT network thread; the message is acknowledged once applied and stored, so a
crash before that has the broker deliver it again (a repeat is then ignored by the book). A
refused document is logged with its reasons and acknowledged: sending it again cannot help."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable

from cityops.cap.check import Verdict
from cityops.ingest.worker import InboundMessage, MessageOutcome

log = logging.getLogger(__name__)

CAP_TOPICS = "cityops/+/cap"
_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_TOPIC = re.compile(rf"^cityops/(?P<m>{_ID})/cap$")
Accept = Callable[[bytes, str | None], tuple[Verdict, int]]


def cap_municipality(topic: str) -> str | None:
    """The municipality a CAP topic names, or None when ``topic`` is not one."""
    m = _TOPIC.match(topic)
    return m.group("m") if m else None


class CapMqtt:
    """Takes CAP messages off the MQTT client (``offer``) and applies them in order."""

    def __init__(self, accept: Accept, backlog: int = 1000) -> None:
        self._accept = accept
        self._queue: queue.Queue[InboundMessage | None] = queue.Queue(maxsize=backlog)
        self._thread: threading.Thread | None = None
        self.refused = 0
        """Documents refused so far (invalid, not CAP 1.2, hostile)."""

    def offer(self, message: InboundMessage) -> bool:
        """Take ``message`` when its topic is a CAP topic (True); the queue is bounded, so a
        flood waits here (the broker holds the rest) instead of growing memory."""
        if not message.topic_valid or cap_municipality(message.topic) is None:
            return False
        self._queue.put(message)
        return True

    def handle(self, message: InboundMessage) -> int:
        """Apply one message now; returns the events submitted to the pipeline."""
        mid = cap_municipality(message.topic)
        submitted = 0
        if mid is not None:
            verdict, submitted = self._accept(message.payload, mid)
            if not verdict.valid:
                self.refused += 1
                log.warning(
                    "CAP alert on %s refused: %s", message.topic, "; ".join(verdict.reasons)
                )
        if message.done is not None:
            message.done(MessageOutcome(submitted, ()))
        return submitted

    def _loop(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self.handle(message)
            except Exception:  # left unacknowledged: the broker delivers it again
                log.exception("CAP alert on %s not applied", message.topic)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cityops-cap-mqtt", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
