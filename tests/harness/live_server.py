"""A real CityOps server (control center + uvicorn) on a loopback port, for browser tests,
live-feed tests and the console benchmark.

Plain Python (no pytest), like tests/harness::

    with MosquittoServer() as broker, LiveServer(tmp, broker.url, [TOWN_YAML]) as server:
        page.goto(server.url)

``start()`` migrates a fresh SQLite database in ``data_dir``, imports the given municipality
configurations, starts the control center (pipeline + MQTT client on the given broker, or on an
embedded broker on a free port when ``mqtt_url`` is None) and
serves ``create_api(center)`` with uvicorn on a background thread; it returns once the API
answers and the MQTT client is connected. ``stop()`` asks uvicorn to exit, joins its thread and
stops the control center.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import httpx
import uvicorn

from cityops.api.app import create_api
from cityops.app import ControlCenter, import_config
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade
from tests.harness import LOOPBACK, free_port
from tests.harness.process import Running


class LiveServer(Running):
    def __init__(
        self,
        data_dir: Path,
        mqtt_url: str | None,
        configs: Sequence[Path],
        *,
        default_language: str = "en",
        database_url: str | None = None,
        video_dir: Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.port = free_port()
        self.settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            mqtt_url=mqtt_url,
            mqtt_port=free_port() if mqtt_url is None else 1883,
            mqtt_client_id=f"cityops-browser-{uuid.uuid4().hex[:10]}",
            http_host=LOOPBACK,
            http_port=self.port,
            default_language=default_language,
            demo_video_dir=video_dir,
            log_level="WARNING",
            video_worker=False,  # the video worker's own tests start one (tests/video/worker)
            mqtt_anonymous=True,  # test publishers on the embedded broker are anonymous
            broker="amqtt",  # the supervised Mosquitto has tests of its own (tests/e2e)
            session_cookie_secure=False,  # plain http on loopback
        )
        self.configs = list(configs)
        self.start_timeout = start_timeout
        self.center: ControlCenter | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def mqtt_url(self) -> str:
        """The broker: the one given, or the embedded broker started for mqtt_url=None."""
        return self.settings.mqtt_url or f"mqtt://{LOOPBACK}:{self.settings.mqtt_port}"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"

    def headers(self, **who: Any) -> dict[str, str]:
        """``Authorization`` of a new account: tests.town.account(**who), by default an admin of
        the test town (and an installation admin)."""
        from tests.town import account

        assert self.center is not None, "start the server first"
        return {"Authorization": f"Bearer {account(self.center.db, **who)}"}

    def start(self) -> Self:
        upgrade(self.settings.db_url)
        db = make_engine(self.settings.db_url)
        try:
            for path in self.configs:
                import_config(db, path, actor="test")
        finally:
            db.dispose()
        self.center = ControlCenter(self.settings)
        try:
            self.center.start()
            assert self.center.mqtt is not None
            if not self.center.mqtt.connected.wait(self.start_timeout):
                raise RuntimeError(f"CityOps did not connect to {self.mqtt_url}")
            config = uvicorn.Config(
                create_api(self.center),
                host=LOOPBACK,
                port=self.port,
                log_level="warning",
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(
                target=self._server.run, name="cityops-uvicorn", daemon=True
            )
            self._thread.start()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError(f"uvicorn exited while starting on port {self.port}")
            try:
                if httpx.get(self.api("/health"), timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the API did not answer on {self.url} within {self.start_timeout}s")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
            if self._thread.is_alive():
                assert self._server is not None
                self._server.force_exit = True
                self._thread.join(5)
        self._server = None
        self._thread = None
        if self.center is not None:
            self.center.stop()
            self.center = None
