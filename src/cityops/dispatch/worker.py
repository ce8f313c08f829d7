"""The dispatch worker: the outbox thread (``dispatch/outbox.py``) that sends dispatched
incidents to agencies (docs/DISPATCH.md): a signed webhook, or an e-mail whose reply link is a
one-time token kept as its digest. Because the outbox is a table, a restart only delays a
delivery."""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from cityops.dispatch import message, signing
from cityops.dispatch.outbox import DispatchConfig, OutboxWorker, Outcome, Tried
from cityops.dispatch.senders import post_webhook, send_email
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.dispatch import Channel
from cityops.store import dispatch_repo
from cityops.store.dispatch_repo import Delivery

__all__ = ["ACTOR", "DispatchConfig", "DispatchWorker"]

log = logging.getLogger(__name__)

ACTOR = "dispatch"


class DispatchWorker(OutboxWorker[Delivery]):
    """``configs()`` gives the current configuration per municipality (secrets are looked up
    at each try, so a rotated secret file takes effect at once)."""

    thread_name = "cityops-dispatch"
    label = "dispatch"
    actor = ACTOR
    log = log

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
        super().__init__(db, config, dispatch_repo.OUTBOX, changed, clock=clock, jitter=jitter)
        self.configs = configs
        self.links = message.Links(config.public_url.rstrip("/"))

    def _send(self, delivery: Delivery, now: datetime) -> Tried:
        token = secrets.token_urlsafe(24)
        error = self._deliver(delivery, now, token)
        if error is None and delivery.channel is Channel.EMAIL:
            return Tried(None, {"reply_token_hash": hashlib.sha256(token.encode()).hexdigest()})
        return Tried(error)

    def _logged(self, delivery: Delivery, outcome: Outcome) -> None:
        if outcome.error is None:
            log.info("dispatch: delivery %s sent to %s", delivery.id, delivery.target)
        else:
            log.warning(
                "dispatch: delivery %s try %d: %s", delivery.id, outcome.attempts, outcome.error
            )

    def _deliver(self, delivery: Delivery, now: datetime, token: str) -> str | None:
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

    def _what(self, delivery: Delivery) -> str:
        return f"{delivery.channel} to {delivery.agency}"

    def _sent(self, delivery: Delivery, what: str) -> str:
        return f"{what} sent ({delivery.target})"

    def _data(self, delivery: Delivery) -> dict[str, str]:
        return {
            "delivery": str(delivery.id),
            "channel": delivery.channel.value,
            "agency": delivery.agency,
            "target": delivery.target,
        }
