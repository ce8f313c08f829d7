"""The embedded amqtt broker: the fallback when Mosquitto is not installed (the default is a
Mosquitto that CityOps supervises, bus/supervisor.py), or ``CITYOPS_BROKER=amqtt``.

It runs on its own thread and event loop so that a burst of device traffic never competes with
the API's loop. It keeps its sessions in this process's memory: what it acknowledged to a device
and CityOps had not stored yet is lost if the process is killed (docs/MQTT.md, Embedded broker).

Clients log in with device credentials and are held to their grants (bus/broker_auth.py); without
an authority (``authority=None``) it admits anyone to anything, as a bare test broker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from typing import Any

from cityops.bus.broker_auth import BrokerAuthority, GuardedBroker

log = logging.getLogger(__name__)


class EmbeddedBroker:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 1883, authority: BrokerAuthority | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.authority = authority or BrokerAuthority(None, anonymous=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="cityops-broker", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("embedded MQTT broker did not start in time")
        if self._error is not None:
            raise RuntimeError(f"embedded MQTT broker failed: {self._error}") from self._error

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "sys_interval": 0,
            "plugins": {},  # none: GuardedBroker checks logins and topics itself
        }
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self._broker = GuardedBroker(config, loop=loop)
            self._broker.authority = self.authority
            loop.run_until_complete(self._broker.start())
        except BaseException as err:
            self._error = err
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._broker.shutdown())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = None
        self._thread = None
