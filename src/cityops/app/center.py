"""`cityops serve`: the control center, settings -> store -> runtimes -> pipeline -> bus -> API."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine

from cityops.app.brokers import start_embedded_broker
from cityops.app.setup import (
    dispatch_config,
    is_postgres,
    load_runtimes,
    make_pipeline,
    video_jobs,
    video_worker,
    watch_config,
)
from cityops.bus.agency_mqtt import AgencyRequestServer
from cityops.bus.broker import EmbeddedBroker
from cityops.bus.control import ControlSession
from cityops.bus.mqtt import MqttIngest, ingest_client_id
from cityops.bus.supervisor import SupervisedMosquitto
from cityops.dispatch.cap_out import CapOutWorker
from cityops.dispatch.worker import DispatchWorker
from cityops.domain.retention import RetentionPolicy
from cityops.ingest.cap_feeds import CapFeedPoller
from cityops.ingest.cap_mqtt import CapMqtt
from cityops.ingest.cap_sent import archived, audit_sent
from cityops.ingest.pipeline import IngestPipeline
from cityops.mqtt_url import parse_mqtt_url
from cityops.services.camera_health import CameraHealthMonitor
from cityops.services.housekeeping import Housekeeping, Schedule
from cityops.services.live import LiveBus, LiveKind, LiveMessage
from cityops.services.live_bridge import LiveListener
from cityops.services.retention import EvidenceStore
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import load_summary
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade
from cityops.store.sqlite_wal import WalCheckpointer
from cityops.store.sqlite_wal import applies as wal_applies
from cityops.video.masking import MaskStyle
from cityops.video.snapshots import SnapshotService
from cityops.video.worker import VideoWorker

log = logging.getLogger("cityops.app")


class _Stops(Protocol):
    def stop(self) -> None: ...


class ControlCenter:
    """Everything one CityOps server process runs, built here and nowhere else (the API is
    handed this object and sees it through api.deps.Backend). ``start()`` reads like its
    table of contents. With CITYOPS_INGEST=external the readings are `cityops ingest`'s
    (app/ingest_role.py): no pipeline here, the live feed comes through the live bridge."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.external = settings.ingest == "external"
        if self.external and not is_postgres(settings.db_url):
            raise RuntimeError(
                "CITYOPS_INGEST=external needs PostgreSQL (CITYOPS_DATABASE_URL): the ingest "
                "processes share their leases and live feed through it (docs/SCALING.md)"
            )
        self.db: Engine = make_engine(settings.db_url)
        self.live = LiveBus()
        self.snapshots = SnapshotService.with_clip_dir(
            settings.demo_video_dir,
            rendered=settings.demo_synthetic,
            style=MaskStyle(settings.privacy_style),
        )
        self.runtimes: dict[str, MunicipalityRuntime] = {}
        self.pipeline: IngestPipeline | None = None
        self.live_bridge: LiveListener | None = None
        self.camera_health: CameraHealthMonitor | None = None
        self.broker: EmbeddedBroker | SupervisedMosquitto | None = None
        self.mqtt: MqttIngest | None = None
        self.mqtt_control: ControlSession | None = None
        """External ingest: the server's own MQTT client (requests, detections, incidents)."""
        self.ingest_url = settings.broker_url
        """Where the ingest connects, with its credential (in memory for the embedded broker)."""
        self.video_url: str | None = settings.video_mqtt_url
        self.video: VideoWorker | None = None
        self.housekeeping: Housekeeping | None = None
        self.dispatch: DispatchWorker | None = None
        self.cap_out: CapOutWorker | None = None
        self.cap_feeds: CapFeedPoller | None = None
        self.cap_mqtt: CapMqtt | None = None
        self._config_stop: threading.Event | None = None
        self.wal: WalCheckpointer | None = None

    def start(self, *, with_mqtt: bool = True) -> None:
        # Three busy threads share the GIL (MQTT network, ingest worker, API loop): hand it over
        # every millisecond instead of every 5, so a threshold crossing is not held up behind a
        # large batch (measured: p99 trigger-to-console latency, docs/BENCHMARKS.md).
        sys.setswitchinterval(0.001)
        upgrade(self.settings.db_url)
        if wal_applies(self.db):  # SQLite: checkpoints off the ingest's commits
            self.wal = WalCheckpointer(self.db)
            self.wal.start()
        self.runtimes = self.load_runtimes()
        if self.external:
            self.start_live_bridge()
        else:
            self.start_pipeline()
        if self.settings.config_poll_s > 0:
            self._config_stop = watch_config(self.db, self.settings.config_poll_s, self.reload)
        if self.settings.camera_probe_s > 0:
            self.start_camera_health()
        self.start_housekeeping()
        if self.settings.dispatch_poll_s > 0:
            self.start_dispatch()
            self.start_cap_out()
        if not self.external:  # else the ingest processes poll their municipalities' feeds
            self.start_cap_feeds()
        if with_mqtt:
            if not self.settings.mqtt_url:
                self.start_embedded_broker()
            self.start_mqtt_client()
            if self.settings.video_worker:
                self.start_video_worker()
        log.info("control center started: %d municipalities", len(self.runtimes))

    def load_runtimes(self) -> dict[str, MunicipalityRuntime]:
        return load_runtimes(self.db, stale_factor=self.settings.sensor_stale_factor)

    def start_pipeline(self) -> None:
        self.pipeline = make_pipeline(self.settings, self.db, self.runtimes, self.live)
        self.runtimes = self.pipeline.runtimes  # one dict: the pipeline may rebuild entries
        self.pipeline.start()

    def start_live_bridge(self) -> None:
        """What the ingest processes tell their live buses, on this one (docs/SCALING.md)."""
        self.live_bridge = LiveListener(self.db, self.live, lambda: list(self.runtimes))
        self.live_bridge.start()

    def start_camera_health(self) -> None:
        self.camera_health = CameraHealthMonitor(
            self.runtimes,
            self.snapshots.fingerprint,  # the video layer's frame probe, injected
            self.db,
            self.live,
            interval_s=self.settings.camera_probe_s,
        )
        self.camera_health.start()

    def start_housekeeping(self) -> None:
        """Audit anchors and retention on their schedules (docs/PRIVACY.md)."""
        self.housekeeping = Housekeeping(
            self.db,
            lambda: {
                m: rt.config.retention or RetentionPolicy() for m, rt in self.runtimes.items()
            },
            EvidenceStore(self.settings.evidence_root, self.settings.evidence_retention_days),
            Schedule(
                retention_s=self.settings.retention_interval_s,
                anchor_s=self.settings.audit_anchor_interval_s,
                anchor_export=self.settings.audit_anchor_export,
            ),
        )
        self.housekeeping.start()

    def start_dispatch(self) -> None:
        """The outbox worker: dispatched incidents to agencies' webhooks and e-mail."""
        self.dispatch = DispatchWorker(
            self.db,
            dispatch_config(self.settings),
            lambda: {m: rt.config for m, rt in self.runtimes.items()},
            self._incident_changed,
        )
        self.dispatch.start()

    def start_cap_out(self) -> None:
        """CityOps's CAP messages to the configured endpoints (docs/CAP.md)."""
        self.cap_out = CapOutWorker(
            self.db,
            dispatch_config(self.settings),
            lambda: {m: rt.config.public_warnings for m, rt in self.runtimes.items()},
            archived(self.settings.data_dir / "cap"),
            audit_sent,
            self._incident_changed,
        )
        self.cap_out.start()

    def start_cap_feeds(self) -> None:
        """Public warnings: the CAP feeds the municipalities configure (docs/CAP.md)."""
        assert self.pipeline is not None
        self.cap_feeds = CapFeedPoller(
            self.runtimes,
            self.pipeline.submit,
            lambda: datetime.now(UTC),
            live=self.live,
            db=self.db,
        )
        self.cap_feeds.start()
        self.cap_mqtt = CapMqtt(self.cap_feeds.accept)
        self.cap_mqtt.start()

    def _incident_changed(self, municipality: str, incident_id: int) -> None:
        with self.db.connect() as conn:
            brief = load_summary(conn, municipality, incident_id)
        if brief is not None:
            self.live.publish(LiveMessage(municipality, LiveKind.INCIDENT, brief))

    def start_embedded_broker(self) -> None:
        embedded = start_embedded_broker(self.settings, self.db, video=self.video_url is None)
        self.broker, self.ingest_url = embedded.broker, embedded.ingest_url
        self.video_url = self.video_url or embedded.video_url

    def start_mqtt_client(self) -> None:
        amqtt = isinstance(self.broker, EmbeddedBroker)  # speaks MQTT 3.1.1 only
        protocol = self.settings.mqtt_protocol or ("3.1.1" if amqtt else "5")
        username = parse_mqtt_url(self.ingest_url).username
        client_id = ingest_client_id(self.settings.data_dir, username, self.settings.mqtt_client_id)
        agency = AgencyRequestServer(self.db, self.runtimes, self.live, self.settings.public_url)
        if self.external:  # requests, detections, incident changes out; no readings
            self.mqtt_control = ControlSession(
                self.ingest_url,
                self.live,
                self.runtimes,
                f"{client_id}-control",
                protocol=protocol,
                agency=agency,
            )
            self.mqtt_control.start()
            return
        assert self.pipeline is not None, "the pipeline takes what the MQTT client receives"
        self.mqtt = MqttIngest(
            self.ingest_url,
            self.pipeline,
            client_id,
            protocol=protocol,
            embedded=amqtt,
            agency=agency,
        )
        self.mqtt.cap = self.cap_mqtt
        self.mqtt.start()

    def start_video_worker(self) -> None:
        """The in-process video worker: shares the cameras with any `cityops video-worker`."""
        if self.video_url is None and parse_mqtt_url(self.ingest_url).username:
            raise RuntimeError(
                "the in-process video worker needs a credential of its own: set "
                "CITYOPS_VIDEO_MQTT_URL (a `cityops devices create --kind worker` credential), "
                "or CITYOPS_VIDEO_WORKER=false"
            )
        configs = [rt.config for rt in self.runtimes.values()]
        self.video = video_worker(self.settings, configs, broker_url=self.video_url)
        self.snapshots.analysed = self.video.analysed  # its cameras shown from its frames
        self.video.start()

    def reload(self) -> bool:
        """Apply the newest stored configurations (the configuration watcher). True: done."""
        fresh = self.load_runtimes()
        if self.pipeline is not None:
            if not self.pipeline.reload(fresh):
                return False
        else:  # external ingest: the runtimes serve the API and the workers only
            for muni in [m for m in self.runtimes if m not in fresh]:
                del self.runtimes[muni]
            self.runtimes.update(fresh)
        if self.mqtt is not None:
            self.mqtt.update_subscriptions()
        if self.video is not None:
            configs = [rt.config for rt in self.runtimes.values()]
            self.video.set_jobs(video_jobs(self.settings, configs))
        return True

    def stop(self) -> None:
        if self._config_stop is not None:
            self._config_stop.set()
        first: tuple[_Stops | None, ...] = (self.camera_health, self.video, self.cap_mqtt)
        for part in (*first, self.cap_feeds):
            if part is not None:
                part.stop()
        # The pipeline first: what it still holds is stored and acknowledged while the MQTT
        # client is connected, so a clean stop leaves nothing for the broker to redeliver.
        if self.pipeline is not None:
            self.pipeline.stop()
        if self.live_bridge is not None:
            self.live_bridge.stop()
        last: tuple[_Stops | None, ...] = (self.mqtt, self.mqtt_control, self.broker)
        for late in (*last, self.housekeeping, self.dispatch, self.cap_out):
            if late is not None:
                late.stop()
        self.snapshots.close()
        if self.wal is not None:
            self.wal.stop()
        self.db.dispose()
