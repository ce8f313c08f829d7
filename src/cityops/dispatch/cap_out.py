"""CAP out to the configured endpoints (``public_warnings.endpoints``, docs/CAP.md "Sending to
endpoints"): a thread that works the ``cap_deliveries`` outbox the way the dispatch worker works
its own (a lease per try, exponential back-off with jitter, a dead letter after the last try).

- ``cap-post``: the CAP message itself, ``application/cap+xml``.
- ``bg-alert``: the request package to the civil-protection operator who broadcasts
  (BG-ALERT): a JSON envelope (:func:`request_envelope`) carrying the message, signed or not as
  published, byte for byte (base64) with its SHA-256.

Both carry the HMAC headers of dispatch webhooks (``X-CityOps-Timestamp``,
``X-CityOps-Signature: v1=<hex>`` over ``<timestamp>.<body>``) when the endpoint names a secret,
and ``Idempotency-Key`` (the same for every try of one delivery). The incident's timeline gets the
first failure, the success and the dead letter; a success is audited ``warning.sent``."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Connection, Engine

from cityops.dispatch import signing
from cityops.dispatch.senders import post_webhook
from cityops.dispatch.worker import DispatchConfig
from cityops.domain.dispatch import AgencyChannels, DeliveryStatus
from cityops.domain.incident import TimelineEntry, TimelineKind
from cityops.domain.warnings import CapEndpoint, EndpointKind, PublicWarnings
from cityops.store import cap_deliveries_repo as repo
from cityops.store import incidents_repo
from cityops.store.cap_deliveries_repo import CapDelivery

log = logging.getLogger(__name__)
ACTOR = "cap-out"
ENVELOPE_TYPE = "cityops.cap-request"
ACTIONS = {"Alert": "broadcast", "Update": "update", "Cancel": "cancel"}
LoadXml = Callable[[str, str], bytes | None]  # (municipality, identifier) -> the message
Audit = Callable[[Connection, CapDelivery, int, datetime], None]


def message_url(public_url: str, municipality: str, identifier: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/m/{municipality}/cap/{identifier}.xml"


def request_envelope(delivery: CapDelivery, xml: bytes, public_url: str, now: datetime) -> bytes:
    """The BG-ALERT request package (docs/CAP.md documents every field)."""
    mid = delivery.municipality
    doc = {
        "type": ENVELOPE_TYPE,
        "version": 1,
        "request_id": f"{mid}/{delivery.id}",
        "action": ACTIONS.get(delivery.msg_type, delivery.msg_type.lower()),
        "municipality": mid,
        "incident": {
            "id": delivery.incident_id,
            "url": f"{public_url.rstrip('/')}/#/m/{mid}/incidents/{delivery.incident_id}",
        },
        "requested_by": delivery.requested_by,
        "requested_at": delivery.created_at.astimezone(UTC).isoformat(),
        "sent_at": now.astimezone(UTC).isoformat(),
        "cap": {
            "identifier": delivery.identifier,
            "msg_type": delivery.msg_type,
            "url": message_url(public_url, mid, delivery.identifier),
            "content_type": "application/cap+xml",
            "sha256": hashlib.sha256(xml).hexdigest(),
            "xml_base64": base64.b64encode(xml).decode("ascii"),
        },
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class CapOutWorker:
    """``endpoints()`` gives each municipality's ``public_warnings`` (secrets are looked up at
    each try); ``load_xml`` the message as published; ``audit`` records a success."""

    def __init__(
        self,
        db: Engine,
        config: DispatchConfig,
        sections: Callable[[], dict[str, PublicWarnings | None]],
        load_xml: LoadXml,
        audit: Audit,
        changed: Callable[[str, int], None] = lambda m, i: None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.db, self.config, self.sections = db, config, sections
        self.load_xml, self.audit, self.changed = load_xml, audit, changed
        self.clock, self.jitter = clock, jitter
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=config.timeout_s, follow_redirects=False, trust_env=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cityops-cap-out", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._http.close()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the thread
                log.exception("CAP out: pass over the outbox failed; will retry")
            self._wake.wait(self.config.poll_s)
            self._wake.clear()

    def run_once(self) -> int:
        """Try every due delivery once; returns how many were tried."""
        now = self.clock()
        with self.db.connect() as conn:
            due = repo.due(conn, now)
        tried = 0
        for delivery in due:
            with self.db.begin() as conn:
                if not repo.claim(conn, delivery, now, self.config.lease_s):
                    continue
            self._try(delivery)
            tried += 1
        return tried

    def _endpoint(self, delivery: CapDelivery) -> CapEndpoint | None:
        section = self.sections().get(delivery.municipality)
        found = [e for e in section.endpoints if e.id == delivery.endpoint] if section else []
        return found[0] if found else None

    def _send(self, delivery: CapDelivery, now: datetime) -> str | None:
        endpoint = self._endpoint(delivery)
        if endpoint is None:
            return f"endpoint {delivery.endpoint} is no longer configured"
        xml = self.load_xml(delivery.municipality, delivery.identifier)
        if xml is None:
            return f"CAP message {delivery.identifier} not found in the archive"
        headers = {
            "User-Agent": "CityOps-CAP/1",
            "Idempotency-Key": f"{delivery.municipality}/{delivery.id}",
            signing.DELIVERY_HEADER: f"cap-{delivery.id}",
            signing.ATTEMPT_HEADER: str(delivery.attempts + 1),
        }
        if endpoint.kind is EndpointKind.BG_ALERT:
            body = request_envelope(delivery, xml, self.config.public_url, now)
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            body, headers["Content-Type"] = xml, "application/cap+xml"
        if endpoint.secret_env or endpoint.secret_file:
            named = AgencyChannels(
                endpoint.id, endpoint.url, endpoint.secret_env, endpoint.secret_file
            )
            try:
                secret = signing.load_secret(named)
            except signing.SecretMissingError as err:
                return str(err)
            stamp = int(now.timestamp())
            headers[signing.TIMESTAMP_HEADER] = str(stamp)
            headers[signing.SIGNATURE_HEADER] = signing.sign(secret, stamp, body)
        return post_webhook(self._http, endpoint.url, body, headers)

    def _try(self, delivery: CapDelivery) -> None:
        now = self.clock()
        try:
            error = self._send(delivery, now)
        except Exception as err:  # one delivery's bug must not stop the others
            log.exception("CAP out: delivery %s raised", delivery.id)
            error = f"internal error: {type(err).__name__}"
        attempts, retry = delivery.attempts + 1, self.config.retry
        if error is None:
            status, next_at = DeliveryStatus.SENT, now
        elif retry.exhausted(attempts):
            status, next_at = DeliveryStatus.FAILED, now
        else:
            status = DeliveryStatus.RETRYING
            next_at = now + timedelta(seconds=retry.delay_s(attempts, self.jitter()))
        told = status is not DeliveryStatus.RETRYING or attempts == 1
        with self.db.begin() as conn:
            repo.finish_try(
                conn,
                delivery.id,
                status=status,
                attempts=attempts,
                next_at=next_at,
                error=error,
                sent_at=now if error is None else None,
            )
            if error is None:
                self.audit(conn, delivery, attempts, now)
            if told:
                self._timeline(conn, delivery, status, attempts, error, now)
        log.log(
            logging.INFO if error is None else logging.WARNING,
            "CAP out: %s to %s try %d: %s",
            delivery.identifier,
            delivery.endpoint,
            attempts,
            error or "sent",
        )
        if told:
            self.changed(delivery.municipality, delivery.incident_id)

    def _timeline(
        self,
        conn: Connection,
        d: CapDelivery,
        status: DeliveryStatus,
        attempts: int,
        error: str | None,
        now: datetime,
    ) -> None:
        record = incidents_repo.get_incident(
            conn, d.municipality, d.incident_id, with_timeline=False
        )
        if record is None:
            return
        what = f"Public warning {d.identifier} ({d.msg_type}) to {d.endpoint}"
        text = {
            DeliveryStatus.SENT: f"{what} sent",
            DeliveryStatus.RETRYING: f"{what} failed, retrying: {error}",
            DeliveryStatus.FAILED: f"{what} FAILED after {attempts} tries: {error}",
        }.get(status, str(status))
        data = {
            "delivery": f"cap-{d.id}",
            "channel": d.kind.value,
            "agency": d.endpoint,
            "target": d.url,
            "status": status.value,
            "attempts": str(attempts),
            "cap": d.identifier,
        }
        entry = TimelineEntry(now, TimelineKind.DISPATCH, ACTOR, text[:4000], data=data)
        incidents_repo.add_timeline(conn, record.incident, entry)
        incidents_repo.touch(conn, d.incident_id, now)
