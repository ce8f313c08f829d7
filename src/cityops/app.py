"""The composition root: settings -> store -> runtimes -> pipeline -> bus -> API, in order."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from cityops.bus.broker import EmbeddedBroker
from cityops.bus.mqtt import MqttIngest
from cityops.config.loader import load_config, load_config_text
from cityops.ingest.pipeline import IngestPipeline
from cityops.services.camera_health import CameraHealthMonitor
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime
from cityops.settings import Settings
from cityops.store import catalog_repo
from cityops.store.db import make_engine, upgrade
from cityops.video.snapshots import SnapshotService

log = logging.getLogger(__name__)


def import_config(db: Engine, path: Path, *, actor: str = "cli") -> MunicipalityRuntime:
    """Validate a municipality's YAML and store it as its newest configuration."""
    config = load_config(path)
    with db.begin() as conn:
        catalog_repo.save_config(
            conn,
            config,
            yaml_text=path.read_text(encoding="utf-8"),
            source_name=path.name,
            actor=actor,
            now=datetime.now(UTC),
        )
    return MunicipalityRuntime.build(config)


def load_runtimes(db: Engine) -> dict[str, MunicipalityRuntime]:
    with db.connect() as conn:
        stored = catalog_repo.latest_configs(conn)
    return {
        s.municipality: MunicipalityRuntime.build(load_config_text(s.yaml, s.source_name))
        for s in stored
    }


class ControlCenter:
    """Everything one CityOps process runs. ``start()`` reads like its table of contents."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db: Engine = make_engine(settings.db_url)
        self.live = LiveBus()
        self.broker: EmbeddedBroker | None = None
        self.mqtt: MqttIngest | None = None
        self.pipeline: IngestPipeline | None = None
        self.runtimes: dict[str, MunicipalityRuntime] = {}
        self.snapshots = SnapshotService.with_clip_dir(settings.demo_video_dir)
        self._config_stop: threading.Event | None = None
        self.camera_health: CameraHealthMonitor | None = None

    @property
    def mqtt_url(self) -> str:
        if self.settings.mqtt_url:
            return self.settings.mqtt_url
        return f"mqtt://{self.settings.mqtt_host}:{self.settings.mqtt_port}"

    def start(self, *, with_mqtt: bool = True) -> None:
        # Three busy threads share the GIL (MQTT network, ingest worker, API loop): hand it over
        # every millisecond instead of every 5, so a threshold crossing is not held up behind a
        # large batch (measured: p99 trigger-to-console latency, docs/BENCHMARKS.md).
        sys.setswitchinterval(0.001)
        upgrade(self.settings.db_url)
        self.runtimes = load_runtimes(self.db)
        self.pipeline = IngestPipeline(
            self.db,
            self.runtimes,
            live=self.live,
            max_payload_bytes=self.settings.max_payload_bytes,
            max_batch=self.settings.max_batch,
            window=self.settings.time_window,
            dead_letters=self.settings.dead_letter_bounds,
        )
        self.runtimes = self.pipeline.runtimes  # one dict: the pipeline may rebuild entries
        self.pipeline.start()
        if self.settings.config_poll_s > 0:
            self.watch_config(self.settings.config_poll_s)
        if self.settings.camera_probe_s > 0:
            self.camera_health = CameraHealthMonitor(
                self.runtimes,
                self.snapshots,
                self.db,
                self.live,
                interval_s=self.settings.camera_probe_s,
            )
            self.camera_health.start()
        if with_mqtt:
            if not self.settings.mqtt_url:
                self.broker = EmbeddedBroker(self.settings.mqtt_host, self.settings.mqtt_port)
                self.broker.start()
                log.info("embedded MQTT broker on %s", self.broker.url)
            protocol = self.settings.mqtt_protocol or ("5" if self.settings.mqtt_url else "3.1.1")
            self.mqtt = MqttIngest(
                self.mqtt_url,
                self.pipeline,
                self.settings.mqtt_client_id,
                protocol=protocol,
                embedded=self.broker is not None,
            )
            self.mqtt.start()
        log.info("control center started: %d municipalities", len(self.runtimes))

    def watch_config(self, interval_s: float) -> None:
        """Apply a newly imported configuration (``cityops import-config``) while running."""
        stop = self._config_stop = threading.Event()

        def newest() -> int:
            with self.db.connect() as conn:
                return catalog_repo.newest_version(conn)

        seen = newest()

        def loop() -> None:
            nonlocal seen
            while not stop.wait(interval_s):
                try:
                    current = newest()
                    if (
                        current != seen
                        and self.pipeline is not None
                        and self.pipeline.reload(load_runtimes(self.db))
                    ):
                        seen = current
                        log.info("configuration version %d applied", current)
                except Exception:  # a bad database moment must not end the watcher
                    log.exception("configuration reload failed; will retry")

        threading.Thread(target=loop, name="cityops-config", daemon=True).start()

    def stop(self) -> None:
        if self._config_stop is not None:
            self._config_stop.set()
        if self.camera_health is not None:
            self.camera_health.stop()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.pipeline is not None:
            self.pipeline.stop()
        if self.broker is not None:
            self.broker.stop()
        self.snapshots.close()
        self.db.dispose()
