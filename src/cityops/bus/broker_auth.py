"""The embedded broker's door: device credentials and topic rules from the database.

The same rules as Mosquitto's generated files (domain/devices.py ``grants``): a client logs in
with its credential's username and secret; it may publish, subscribe and receive only what its
grants say; its client id becomes its username (Mosquitto's ``use_username_as_clientid``), so no
one can take over another's persistent session. CityOps's own clients in the same process (the
ingest, the in-process video worker) log in with credentials made in memory at start
(:meth:`BrokerAuthority.add_internal`), which may do anything.

amqtt 0.12 looks a CONNECT's client id up, deletes a clean session's namesake and takes over a
connected one *before* it asks the authentication plugins, so an unauthenticated client could
still drop the ingest's session and its queue. :class:`GuardedBroker` therefore checks the
credential first, and refuses the CONNECT before any session is touched. It also checks logins
and topics itself rather than through amqtt plugins: a plugin call is an asyncio task per
plugin, and the topic check runs for every publish and every delivery.

Revocation: a credential's grants are re-read from the database every ``refresh_s`` (5 s), so a
revoked credential cannot log in again, and a client still connected with it is disconnected at
its next publish or delivery after that refresh.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import MQTTError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import Session
from amqtt.utils import gen_client_id
from sqlalchemy import Engine

from cityops.domain.device_secret import new_secret
from cityops.domain.devices import Grant, may_publish, may_receive, may_subscribe
from cityops.services import devices

log = logging.getLogger(__name__)

EVERYTHING = None
"""The grants of an internal client, and of anonymous clients where they are allowed."""
Grants = tuple[Grant, ...] | None


class BrokerAuthority:
    """Who may connect to the embedded broker, and what each may do (thread-safe)."""

    def __init__(self, db: Engine | None, *, anonymous: bool, refresh_s: float = 5.0) -> None:
        self.db = db
        self.anonymous = anonymous
        self.refresh_s = refresh_s
        self._internal: dict[str, str] = {}
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[Grant, ...]]] = {}
        """username -> (valid until, monotonic; its grants)"""
        self._revoked: set[str] = set()
        """Usernames last found revoked (or gone) in the database."""

    def add_internal(self, username: str) -> str:
        """A credential for one of CityOps's own clients; its secret (kept in memory only)."""
        secret = new_secret()
        with self._lock:
            self._internal[username] = secret
        return secret

    def login(self, username: str | None, password: str | None, client_id: str) -> bool:
        """May this CONNECT in? (Blocking: the database is asked.)"""
        if username is None:
            return self.anonymous and not self._reserved(client_id)
        with self._lock:
            internal = self._internal.get(username)
        if internal is not None:
            given = (password or "").encode("utf-8", "surrogatepass")
            return password is not None and hmac.compare_digest(given, internal.encode())
        if self.db is None or password is None:
            return False
        with self.db.connect() as conn:
            return devices.authenticate(conn, username, password) is not None

    def _reserved(self, client_id: str) -> bool:
        """A client id that is some credential's username (an anonymous client may not use it:
        it would take over that credential's session)."""
        with self._lock:
            if client_id in self._internal:
                return True
        if self.db is None:
            return False
        with self.db.connect() as conn:
            return devices.exists(conn, client_id)

    def cached_grants(self, username: str | None) -> tuple[bool, Grants]:
        """(known, grants) from the cache: known False when the database must be asked."""
        if username is None:
            return True, EVERYTHING if self.anonymous else ()
        with self._lock:
            if username in self._internal:
                return True, EVERYTHING
            entry = self._cache.get(username)
        if entry is None or entry[0] < time.monotonic():
            return False, ()
        return True, entry[1]

    def load_grants(self, username: str) -> tuple[Grant, ...]:
        """The grants of ``username`` from the database (none when revoked); cached."""
        granted: tuple[Grant, ...] = ()
        row = None
        if self.db is not None:
            with self.db.connect() as conn:
                row = devices.find_active(conn, username)
                if row is not None:
                    granted = devices.grants_of(row, devices.listed(conn))
        with self._lock:
            self._cache[username] = (time.monotonic() + self.refresh_s, granted)
            if row is None:
                self._revoked.add(username)
            else:
                self._revoked.discard(username)
        return granted

    def revoked(self, username: str | None) -> bool:
        """The database said, at the last refresh, that this credential is no more."""
        with self._lock:
            return username in self._revoked

    async def grants(self, username: str | None) -> Grants:
        known, granted = self.cached_grants(username)
        if known or username is None:
            return granted
        return await asyncio.to_thread(self.load_grants, username)

    async def allowed(self, session: Session, topic: str, action: Action) -> bool:
        granted = await self.grants(session.username)
        if granted is EVERYTHING:
            return True
        if action is Action.PUBLISH:
            return may_publish(granted, topic)
        if action is Action.SUBSCRIBE:
            return may_subscribe(granted, topic)
        return may_receive(granted, topic)


class GuardedBroker(Broker):  # type: ignore[misc]
    """amqtt's broker, checking the credential before a CONNECT can touch any session.

    ``_initialize_client_session`` is amqtt 0.12.1's, with :meth:`_admit` between reading the
    CONNECT and looking its client id up (tests/e2e/test_mqtt_acl_embedded.py shows the
    take-over it prevents)."""

    authority: BrokerAuthority
    _closing: set[asyncio.Task[None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._closing = set()

    async def _authenticate(self, session: Session, _listener: object) -> bool:
        """amqtt asks this at CONNECT (after :meth:`_admit` here): the same check again."""
        return await asyncio.to_thread(
            self.authority.login, session.username, session.password, session.client_id or ""
        )

    async def _topic_filtering(self, session: Session, topic: str, action: Action) -> bool:
        """Every publish, subscription and delivery: the credential's grants (called directly,
        not through amqtt's plugin tasks: this is the hot path). A client whose credential was
        revoked is disconnected at its next publish or delivery, as Mosquitto does on reload."""
        if await self.authority.allowed(session, topic, action):
            return True
        if session.username is not None and self.authority.revoked(session.username):
            self._cut_off(session)
        return False

    def _cut_off(self, session: Session) -> None:
        found = self._sessions.get(session.client_id)
        if found is None or found[0] is not session or not session.transitions.is_connected():
            return
        handler = found[1]

        async def close() -> None:
            try:
                await handler.handle_connection_closed()
                await handler.stop()
            except Exception:  # the connection may be going away by itself
                log.debug("closing %s", session.client_id, exc_info=True)

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _initialize_client_session(
        self, reader: Any, writer: Any, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        handler, session = await BrokerProtocolHandler.init_from_connect(
            reader, writer, self.plugins_manager
        )
        if not await self._admit(session):
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise MQTTError(f"not authorized: {session.username!r} from {remote_address}")
        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _ = self._sessions[session.client_id]
            for key in ("will_flag", "will_message", "will_topic", "will_qos", "keep_alive"):
                setattr(existing, key, getattr(session, key))
            existing.username, existing.password = session.username, session.password
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _admit(self, session: Session) -> bool:
        username, client_id = session.username, session.client_id or ""
        authority = self.authority
        if not await asyncio.to_thread(authority.login, username, session.password, client_id):
            return False
        if username is not None:
            session.client_id = username  # use_username_as_clientid
        if session.will_flag and session.will_topic:
            return await authority.allowed(session, session.will_topic, Action.PUBLISH)
        return True


__all__ = ["BrokerAuthority", "GuardedBroker"]
