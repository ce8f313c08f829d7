"""The CAP feeds of every municipality that configures ``public_warnings.feeds``, polled on a
thread of their own; what opens or updates a warning goes to the ingest pipeline
(``cap_intake``), and warnings past their expiry close (docs/CAP.md)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

import httpx
from sqlalchemy import Engine

from cityops.cap.area import Jurisdiction
from cityops.cap.book import AlertBook, Outcome
from cityops.cap.check import Verdict, check
from cityops.cap.feed import FeedError, client, poll
from cityops.ingest import cap_store
from cityops.ingest.cap_intake import event_message
from cityops.ingest.cap_notes import note_end
from cityops.ingest.worker import InboundMessage
from cityops.services.live import LiveBus, LiveKind, LiveMessage, WarningChange, WarningPayload
from cityops.services.runtime import MunicipalityRuntime

log = logging.getLogger(__name__)
MAX_REMEMBERED = 10_000


class CapFeedPoller:
    def __init__(
        self,
        runtimes: Mapping[str, MunicipalityRuntime],
        submit: Callable[[InboundMessage], None],
        clock: Callable[[], datetime],
        http: httpx.Client | None = None,
        live: LiveBus | None = None,
        db: Engine | None = None,
    ) -> None:
        self._runtimes, self._submit, self._clock = runtimes, submit, clock
        self._live, self._db = live, db
        self._http = http or client()
        self._books: dict[str, tuple[Jurisdiction, AlertBook]] = {}
        self._next: dict[tuple[str, str], float] = {}
        self._fetched: dict[str, dict[str, None]] = {}  # feed -> alert URLs, oldest first
        self._lock = threading.Lock()  # the thread and a caller (a test, a command) may poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changes: list[tuple[str, Outcome]] = []
        """The latest changes (bounded), newest last: for the API and the live feed."""

    def book(self, mid: str) -> AlertBook | None:
        entry = self._book(mid)
        return entry[1] if entry else None

    def _book(self, mid: str) -> tuple[Jurisdiction, AlertBook] | None:
        rt = self._runtimes.get(mid)
        pw = rt.config.public_warnings if rt else None
        if pw is None:
            self._books.pop(mid, None)
            return None
        where = Jurisdiction(mid, pw.boundary, pw.geocodes)
        held = self._books.get(mid)
        if held is None or held[0] != where:  # new or reconfigured: from what is stored
            held = self._books[mid] = (where, AlertBook(where))
            if self._db is not None:
                cap_store.restore(self._db, mid, held[1])
        return held

    def poll_due(self) -> int:
        """Poll every feed whose time has come; returns how many messages were submitted."""
        with self._lock:
            return self._poll_due()

    def _poll_due(self) -> int:
        now = self._clock()
        ts = now.timestamp()
        sent = 0
        for mid, rt in list(self._runtimes.items()):
            pw = rt.config.public_warnings
            held = self._book(mid)
            if pw is None or held is None:
                continue
            for feed in pw.feeds:
                if self._next.get((mid, feed.url), 0.0) > ts:
                    continue
                self._next[(mid, feed.url)] = ts + feed.interval_s
                sent += self._poll_one(mid, feed.url, held[1], now)
            for gone in held[1].expire(now):
                self._note(mid, gone)
        return sent

    def accept(self, data: bytes, only: str | None = None) -> tuple[Verdict, int]:
        """One CAP document pushed to CityOps (a file, an HTTP post): checked, applied to the
        books (of ``only``, or every municipality), what it opens or updates submitted."""
        with self._lock:
            now = self._clock()
            verdict = check(data)
            sent = 0
            if verdict.alert is None:
                return verdict, 0
            for mid in [only] if only is not None else list(self._runtimes):
                held = self._book(mid)
                if held is not None:
                    sent += self._apply(mid, held[1], verdict, now, data)
            return verdict, sent

    def _apply(
        self, mid: str, book: AlertBook, verdict: Verdict, now: datetime, data: bytes
    ) -> int:
        assert verdict.alert is not None
        sent = 0
        for outcome in book.apply(verdict.alert, now, verdict.signature_text()):
            self._note(mid, outcome, data)
            message = event_message(outcome, mid, now)
            if message is not None:
                self._submit(message)
                sent += 1
        return sent

    def _poll_one(self, mid: str, url: str, book: AlertBook, now: datetime) -> int:
        seen = self._fetched.setdefault(url, {})
        try:
            fetched = poll(self._http, url, skip=seen)
        except FeedError as err:
            log.warning("CAP feed of %s not read: %s", mid, err)
            return 0
        sent = 0
        for item in fetched:
            seen[item.url] = None
            while len(seen) > MAX_REMEMBERED:
                del seen[next(iter(seen))]
            if item.verdict.alert is None:
                log.warning("CAP alert %s refused: %s", item.url, "; ".join(item.verdict.reasons))
                continue
            sent += self._apply(mid, book, item.verdict, now, item.data)
        return sent

    def _note(self, mid: str, outcome: Outcome, data: bytes = b"") -> None:
        self.changes.append((mid, outcome))
        del self.changes[:-1000]
        rt = self._runtimes.get(mid)
        if self._db is not None:
            try:
                cap_store.record(self._db, mid, outcome, data, self._clock())
            except Exception:
                # what is stored is the truth: forget this book, so the next use rebuilds it
                # from the table and the same message (a retry, an MQTT redelivery) applies anew
                self._books.pop(mid, None)
                raise
        if self._db is not None and rt is not None:
            try:
                note_end(self._db, rt, outcome, self._clock())
            except Exception:  # the note is a courtesy: a database hiccup must not stop polling
                log.exception("noting the end of a public warning failed")
        if self._live is not None:
            self._live.publish(LiveMessage(mid, LiveKind.WARNING, warning_payload(outcome)))

    def start(self, period_s: float = 5.0) -> None:
        def loop() -> None:
            while not self._stop.wait(period_s):
                try:
                    self.poll_due()
                except Exception:  # a bug must not end polling for good
                    log.exception("CAP feed polling failed")

        self._thread = threading.Thread(target=loop, name="cityops-cap-feeds", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http.close()


def warning_payload(outcome: Outcome) -> WarningPayload:
    """The live message of a warning's change (services/live.py, docs/LIVE.md)."""
    warning, alert = outcome.warning, outcome.warning.alert
    info = alert.infos[0] if alert.infos else None
    return WarningPayload(
        change=WarningChange(outcome.change.value),
        sender=alert.sender[:300],
        identifier=alert.identifier[:300],
        headline=((info.headline or info.event) if info else alert.identifier)[:500],
        severity=(info.severity if info else "Unknown")[:32],
        lon=warning.position.lon,
        lat=warning.position.lat,
        expires=alert.expires(),
        signature=warning.signature[:500],
    )
