"""`cityops ingest`: one member of multi-process ingest (docs/SCALING.md).

It runs the pipeline, the partition manager and one MQTT session per partition it holds, the
CAP feeds and CAP-over-MQTT of those municipalities, the configuration watcher, and the live
bridge's sending side; no API, housekeeping, video or dispatch (the server's outbox workers
find the dispatches this process's incidents wrote)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sys
import threading
from datetime import UTC, datetime

from cityops.app.setup import configured, is_postgres, load_runtimes, make_pipeline, watch_config
from cityops.bus.partitions import MemberPipeline, PartitionSessions
from cityops.ingest.cap_feeds import CapFeedPoller
from cityops.ingest.cap_mqtt import CapMqtt
from cityops.ingest.pipeline import IngestPipeline
from cityops.services.live import LiveBus
from cityops.services.live_bridge import LiveNotifier
from cityops.services.partition_users import IngestSecretError, read_secret
from cityops.services.partitions import LeaseSettings, PartitionManager
from cityops.services.runtime import MunicipalityRuntime
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade

log = logging.getLogger("cityops.app")


class IngestRefusedError(RuntimeError):
    """The settings do not allow `cityops ingest` (its message says why)."""


def check(settings: Settings) -> None:
    if not is_postgres(settings.db_url):
        raise IngestRefusedError(
            "`cityops ingest` needs PostgreSQL (CITYOPS_DATABASE_URL=postgresql+psycopg://...): "
            "its processes share leases, fencing and the live feed through it; on SQLite run "
            "`cityops serve` alone (docs/SCALING.md)"
        )
    if settings.ingest_lease_s < 2 * settings.ingest_heartbeat_s:
        raise IngestRefusedError(
            "CITYOPS_INGEST_LEASE_S must be at least twice CITYOPS_INGEST_HEARTBEAT_S: a lease "
            "renewed once a heartbeat would otherwise lapse at the first slow round"
        )
    if not settings.mqtt_url:
        raise IngestRefusedError(
            "`cityops ingest` needs the broker the devices publish to (CITYOPS_MQTT_URL)"
        )
    try:
        read_secret(settings.ingest_secret, settings.ingest_secret_file)
    except IngestSecretError as err:
        raise IngestRefusedError(str(err)) from None


class IngestProcess:
    def __init__(self, settings: Settings) -> None:
        check(settings)
        self.settings = settings
        self.db = make_engine(settings.db_url)
        self.live = LiveBus()
        self.member = (
            settings.ingest_member_id
            or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        )
        self.pipeline: IngestPipeline | None = None
        self.sessions: PartitionSessions | None = None
        self.manager: PartitionManager | None = None
        self.notifier = LiveNotifier(self.db, self.live)
        self.cap_feeds: CapFeedPoller | None = None
        self.cap_mqtt: CapMqtt | None = None
        self._config_stop: threading.Event | None = None

    def runtime_for(self, municipality: str) -> MunicipalityRuntime | None:
        stale = self.settings.sensor_stale_factor
        return load_runtimes(self.db, stale_factor=stale).get(municipality)

    def start(self) -> None:
        sys.setswitchinterval(0.001)  # as the server: see app/center.py
        s = self.settings
        upgrade(s.db_url)
        self.notifier.start()
        pipeline = self.pipeline = make_pipeline(s, self.db, {}, self.live, kind=MemberPipeline)
        self.cap_feeds = CapFeedPoller(
            pipeline.runtimes,  # the partitions held: the pipeline's own dict
            pipeline.submit,
            lambda: datetime.now(UTC),
            live=self.live,
            db=self.db,
        )
        self.cap_mqtt = CapMqtt(self.cap_feeds.accept)
        assert s.mqtt_url is not None
        sessions = self.sessions = PartitionSessions(
            s.mqtt_url,
            pipeline,
            self.runtime_for,
            client_prefix=s.ingest_client_prefix,
            cap=self.cap_mqtt,
            secret=read_secret(s.ingest_secret, s.ingest_secret_file),  # partitions' logins
        )
        pipeline.fence = sessions.fence
        lease = LeaseSettings(lease_s=s.ingest_lease_s, heartbeat_s=s.ingest_heartbeat_s)
        manager = PartitionManager(
            self.db,
            self.member,
            lambda: configured(self.db),
            sessions,
            lease,
            login_errors=sessions.login_errors,  # shown by the server's /health
        )
        self.manager = sessions.manager = manager
        pipeline.start()
        self.cap_feeds.start()
        self.cap_mqtt.start()
        manager.start()
        if s.config_poll_s > 0:
            self._config_stop = watch_config(self.db, s.config_poll_s, self.reload)
        log.info("ingest member %s started", self.member)

    def reload(self) -> bool:
        assert self.sessions is not None
        stale = self.settings.sensor_stale_factor
        return self.sessions.apply_config(load_runtimes(self.db, stale_factor=stale))

    def stop(self) -> None:
        """A graceful leave: every partition drained, acknowledged and released, so the other
        members take them over on their next round."""
        if self._config_stop is not None:
            self._config_stop.set()
        if self.manager is not None:
            self.manager.stop(leave=True)
        for part in (self.cap_mqtt, self.cap_feeds):
            if part is not None:
                part.stop()
        if self.pipeline is not None:
            self.pipeline.stop()
        self.notifier.stop()
        self.db.dispose()
        log.info("ingest member %s left", self.member)
