"""CAP out to the configured endpoints (``public_warnings.endpoints``, docs/CAP.md "Sending to
endpoints"): the outbox thread (``dispatch/outbox.py``, as the dispatch worker) that works the
``cap_deliveries`` outbox (a lease per try, exponential back-off with jitter, a dead letter after
the last try).

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
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from cityops.dispatch import signing
from cityops.dispatch.outbox import DispatchConfig, OutboxWorker, Outcome, Tried
from cityops.dispatch.senders import post_webhook
from cityops.domain.dispatch import AgencyChannels
from cityops.domain.warnings import CapEndpoint, EndpointKind, PublicWarnings
from cityops.store import cap_deliveries_repo as repo
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


class CapOutWorker(OutboxWorker[CapDelivery]):
    """``sections()`` gives each municipality's ``public_warnings`` (secrets are looked up at
    each try); ``load_xml`` the message as published; ``audit`` records a success."""

    thread_name = "cityops-cap-out"
    label = "CAP out"
    actor = ACTOR
    log = log
    trust_env = False

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
        super().__init__(db, config, repo.OUTBOX, changed, clock=clock, jitter=jitter)
        self.sections, self.load_xml, self.audit = sections, load_xml, audit

    def _endpoint(self, delivery: CapDelivery) -> CapEndpoint | None:
        section = self.sections().get(delivery.municipality)
        found = [e for e in section.endpoints if e.id == delivery.endpoint] if section else []
        return found[0] if found else None

    def _send(self, delivery: CapDelivery, now: datetime) -> Tried:
        return Tried(self._post(delivery, now))

    def _post(self, delivery: CapDelivery, now: datetime) -> str | None:
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

    def _finished(self, conn: Connection, delivery: CapDelivery, outcome: Outcome) -> None:
        if outcome.error is None:
            self.audit(conn, delivery, outcome.attempts, outcome.at)

    def _logged(self, delivery: CapDelivery, outcome: Outcome) -> None:
        log.log(
            logging.INFO if outcome.error is None else logging.WARNING,
            "CAP out: %s to %s try %d: %s",
            delivery.identifier,
            delivery.endpoint,
            outcome.attempts,
            outcome.error or "sent",
        )

    def _what(self, delivery: CapDelivery) -> str:
        return f"Public warning {delivery.identifier} ({delivery.msg_type}) to {delivery.endpoint}"

    def _data(self, delivery: CapDelivery) -> dict[str, str]:
        return {
            "delivery": f"cap-{delivery.id}",
            "channel": delivery.kind.value,
            "agency": delivery.endpoint,
            "target": delivery.url,
            "cap": delivery.identifier,
        }
