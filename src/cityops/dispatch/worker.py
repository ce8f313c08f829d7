"""The dispatch worker: one background thread that works the outbox (docs/DISPATCH.md).

Each due delivery is claimed (a lease on its ``next_at``), tried once, and its outcome written
back: sent, retrying at ``next_at`` (exponential back-off with jitter), or failed once the tries
are used up (the dead letter). The timeline gets the first failure, the success and the dead
letter, not every retry. Because the outbox is a table, a restart only delays a delivery."""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Connection, Engine

from cityops.dispatch import message, signing
from cityops.dispatch.senders import SmtpConfig, post_webhook, send_email
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.dispatch import Channel, DeliveryStatus, RetryPolicy
from cityops.domain.incident import TimelineEntry, TimelineKind
from cityops.store import dispatch_repo, incidents_repo
from cityops.store.dispatch_repo import Delivery

log = logging.getLogger(__name__)

ACTOR = "dispatch"


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    public_url: str
    smtp: SmtpConfig | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_s: float = 1.0
    timeout_s: float = 10.0
    lease_s: float = 120.0


class DispatchWorker:
    """``configs()`` gives the current configuration per municipality (secrets are looked up
    at each try, so a rotated secret file takes effect at once); ``changed(municipality,
    incident_id)`` is called after a timeline entry was added (the live feed)."""

    def __init__(
        self,
        db: Engine,
        config: DispatchConfig,
        configs: Callable[[], dict[str, MunicipalityConfig]],
        changed: Callable[[str, int], None] = lambda m, i: None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.config = config
        self.configs = configs
        self.changed = changed
        self.clock = clock
        self.jitter = jitter
        self.links = message.Links(config.public_url.rstrip("/"))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=config.timeout_s, follow_redirects=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cityops-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._http.close()

    def wake(self) -> None:
        """Look at the outbox now (a dispatch was just committed)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the thread
                log.exception("dispatch: pass over the outbox failed; will retry")
            self._wake.wait(self.config.poll_s)
            self._wake.clear()

    def run_once(self) -> int:
        """Try every due delivery once; returns how many were tried."""
        now = self.clock()
        with self.db.connect() as conn:
            due = dispatch_repo.due(conn, now)
        tried = 0
        for delivery in due:
            if self._stop.is_set():
                break
            with self.db.begin() as conn:
                if not dispatch_repo.claim(conn, delivery, now, self.config.lease_s):
                    continue
            self._try(delivery)
            tried += 1
        return tried

    def _try(self, delivery: Delivery) -> None:
        now = self.clock()
        token = secrets.token_urlsafe(24)
        try:
            error = self._send(delivery, now, token)
        except Exception as err:  # a bug in one delivery must not stop the others
            log.exception("dispatch: delivery %s raised", delivery.id)
            error = f"internal error: {type(err).__name__}"
        attempts = delivery.attempts + 1
        retry = self.config.retry
        if error is None:
            status, next_at = DeliveryStatus.SENT, now
        elif retry.exhausted(attempts):
            status, next_at = DeliveryStatus.FAILED, now
        else:
            status = DeliveryStatus.RETRYING
            next_at = now + timedelta(seconds=retry.delay_s(attempts, self.jitter()))
        with self.db.begin() as conn:
            dispatch_repo.finish_try(
                conn,
                delivery.id,
                status=status,
                attempts=attempts,
                next_at=next_at,
                error=error,
                sent_at=now if error is None else None,
                reply_token_hash=hashlib.sha256(token.encode()).hexdigest()
                if error is None and delivery.channel is Channel.EMAIL
                else None,
            )
            told = status is not DeliveryStatus.RETRYING or attempts == 1
            if told:
                self._timeline(conn, delivery, status, attempts, error, now)
        if error is None:
            log.info("dispatch: delivery %s sent to %s", delivery.id, delivery.target)
        else:
            log.warning("dispatch: delivery %s try %d: %s", delivery.id, attempts, error)
        if told:
            self.changed(delivery.municipality, delivery.incident_id)

    def _send(self, delivery: Delivery, now: datetime, token: str) -> str | None:
        if delivery.channel is Channel.EMAIL:
            if self.config.smtp is None:
                return "no SMTP server configured (CITYOPS_SMTP_HOST)"
            mail = message.email(
                delivery, self.links, sender=self.config.smtp.sender, sent_at=now, reply_token=token
            )
            return send_email(self.config.smtp, mail)
        config = self.configs().get(delivery.municipality)
        channels = config.channels_of(delivery.agency) if config else None
        if channels is None:
            return f"agency {delivery.agency} has no dispatch channels any more"
        try:
            secret = signing.load_secret(channels)
        except signing.SecretMissingError as err:
            return str(err)
        body = message.webhook_body(delivery, self.links, now)
        stamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            signing.TIMESTAMP_HEADER: str(stamp),
            signing.SIGNATURE_HEADER: signing.sign(secret, stamp, body),
            signing.DELIVERY_HEADER: str(delivery.id),
            signing.ATTEMPT_HEADER: str(delivery.attempts + 1),
            "User-Agent": "CityOps-Dispatch/1",
        }
        return post_webhook(self._http, delivery.target, body, headers)

    def _timeline(
        self,
        conn: Connection,
        delivery: Delivery,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
        now: datetime,
    ) -> None:
        record = incidents_repo.get_incident(
            conn, delivery.municipality, delivery.incident_id, with_timeline=False
        )
        if record is None:
            return
        text = {
            DeliveryStatus.SENT: f"{delivery.channel} to {delivery.agency} sent "
            f"({delivery.target})",
            DeliveryStatus.RETRYING: f"{delivery.channel} to {delivery.agency} failed, retrying: "
            f"{error}",
            DeliveryStatus.FAILED: f"{delivery.channel} to {delivery.agency} FAILED after "
            f"{attempts} tries: {error}",
        }.get(status, str(status))
        entry = TimelineEntry(
            at=now,
            kind=TimelineKind.DISPATCH,
            actor=ACTOR,
            text=text[:4000],
            data={
                "delivery": str(delivery.id),
                "channel": delivery.channel.value,
                "agency": delivery.agency,
                "target": delivery.target,
                "status": status.value,
                "attempts": str(attempts),
            },
        )
        incidents_repo.add_timeline(conn, record.incident, entry)
        incidents_repo.touch(conn, delivery.incident_id, now)
