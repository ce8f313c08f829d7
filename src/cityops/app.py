"""The composition root: settings -> store -> runtimes -> pipeline -> bus -> API, in order."""

from __future__ import annotations

import hashlib
import logging
import secrets
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from cityops.bus.agency_mqtt import AgencyRequestServer
from cityops.bus.broker import EmbeddedBroker
from cityops.bus.broker_auth import BrokerAuthority
from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.mqtt import MqttIngest, ingest_client_id
from cityops.bus.supervisor import SupervisedMosquitto, embedded_kind
from cityops.config.loader import load_config, load_config_text
from cityops.dispatch.cap_out import CapOutWorker
from cityops.dispatch.senders import SmtpConfig
from cityops.dispatch.worker import DispatchConfig, DispatchWorker
from cityops.domain.analytics import TamperSpec
from cityops.domain.audit import AuditAction
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.dispatch import RetryPolicy
from cityops.domain.retention import RetentionPolicy
from cityops.domain.staleness import DEFAULT_STALE_FACTOR
from cityops.ingest.cap_feeds import CapFeedPoller
from cityops.ingest.cap_mqtt import CapMqtt
from cityops.ingest.cap_sent import archived, audit_sent
from cityops.ingest.payloads import TimeWindow
from cityops.ingest.pipeline import IngestPipeline
from cityops.mqtt_url import parse_mqtt_url, with_credentials
from cityops.services import audit
from cityops.services.camera_health import CameraHealthMonitor
from cityops.services.housekeeping import Housekeeping, Schedule
from cityops.services.live import LiveBus, LiveKind, LiveMessage
from cityops.services.retention import EvidenceStore
from cityops.services.runtime import MunicipalityRuntime
from cityops.services.views import load_summary
from cityops.settings import Settings
from cityops.store import catalog_repo
from cityops.store.db import make_engine, upgrade
from cityops.store.observations_repo import DeadLetterBounds
from cityops.video.evidence import EvidenceConfig
from cityops.video.masking import MaskStyle
from cityops.video.snapshots import SnapshotService
from cityops.video.sources import clip_files
from cityops.video.worker import CameraJob, VideoWorker, camera_jobs

log = logging.getLogger(__name__)


def import_config(db: Engine, path: Path, *, actor: str = "cli") -> MunicipalityRuntime:
    """Validate a municipality's YAML and store it as its newest configuration (refused when
    its Frigate topic prefix is another municipality's)."""
    others = [rt.config for rt in load_runtimes(db).values()]
    config = load_config(path, taken_prefixes=frigate_prefixes(others))
    text = path.read_text(encoding="utf-8")
    with db.begin() as conn:
        catalog_repo.save_config(
            conn, config, yaml_text=text, source_name=path.name, actor=actor, now=datetime.now(UTC)
        )
        audit.record(
            conn,
            actor=actor,
            action=AuditAction.CONFIG_CHANGED,
            municipality=config.municipality.id,
            target=path.name,
            detail={"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
        )
    return MunicipalityRuntime.build(config)


def load_runtimes(
    db: Engine, *, stale_factor: float = DEFAULT_STALE_FACTOR
) -> dict[str, MunicipalityRuntime]:
    """The newest configuration of every municipality, in the order they were imported: where
    two claim the same Frigate topic prefix, the later one's ``ConfigError`` says so."""
    with db.connect() as conn:
        stored = catalog_repo.latest_configs(conn)
    runtimes: dict[str, MunicipalityRuntime] = {}
    for s in sorted(stored, key=lambda s: s.version):
        taken = frigate_prefixes(rt.config for rt in runtimes.values())
        config = load_config_text(s.yaml, s.source_name, taken_prefixes=taken)
        runtimes[s.municipality] = MunicipalityRuntime.build(config, stale_factor=stale_factor)
    return runtimes


def frigate_prefixes(configs: Iterable[MunicipalityConfig]) -> dict[str, str]:
    """Frigate topic prefix -> the municipality whose Frigate publishes under it."""
    return {c.frigate.topic_prefix: c.municipality.id for c in configs if c.frigate}


def reading_window(settings: Settings) -> TimeWindow:
    """How old or how far ahead a reading may be before it is refused."""
    age = settings.reading_max_age_s
    return TimeWindow(
        max_age=timedelta(seconds=age) if age else None,
        max_future=timedelta(seconds=settings.reading_max_future_s),
    )


def dead_letter_bounds(settings: Settings) -> DeadLetterBounds:
    """What the dead letters are held to: age, count, total and per-payload size."""
    age = settings.dead_letter_max_age_s
    return DeadLetterBounds(
        max_age=timedelta(seconds=age) if age else None,
        max_count=settings.dead_letter_max_count,
        max_bytes=settings.dead_letter_max_bytes,
        payload_bytes=settings.dead_letter_payload_bytes,
    )


def video_jobs(settings: Settings, configs: list[MunicipalityConfig]) -> list[CameraJob]:
    """The cameras a video worker may run (in a demo: with the clips or scenes standing in)."""
    return camera_jobs(
        configs, clip_files(settings.demo_video_dir), rendered=settings.demo_synthetic
    )


def video_worker(
    settings: Settings,
    configs: list[MunicipalityConfig],
    *,
    tamper_hold_s: float | None = None,
    broker_url: str | None = None,
) -> VideoWorker:
    """A video worker for the cameras of ``configs`` on ``broker_url`` (default: the settings'
    CITYOPS_VIDEO_MQTT_URL, else the broker in use), not started. Its id is
    CITYOPS_VIDEO_WORKER_ID, else the URL's username (its presence topic is the one its
    credential may write), else <host>-<pid>."""
    url = broker_url or settings.video_mqtt_url or settings.broker_url
    return VideoWorker(
        video_jobs(settings, configs),
        url,
        worker_id=settings.video_worker_id or parse_mqtt_url(url).username,
        keepalive_s=settings.video_keepalive_s,
        tamper=None if tamper_hold_s is None else TamperSpec(hold_s=tamper_hold_s),
        evidence=evidence_config(settings),
    )


def evidence_config(settings: Settings) -> EvidenceConfig | None:
    """Where and how much evidence the video workers keep (None: off)."""
    if not settings.evidence:
        return None
    return EvidenceConfig(
        settings.evidence_root,
        pre_s=settings.evidence_pre_s,
        post_s=settings.evidence_post_s,
        max_clip_s=settings.evidence_max_clip_s,
        style=MaskStyle(settings.privacy_style),
    )


class ControlCenter:
    """Everything one CityOps process runs, built here and nowhere else (the API is handed this
    object and sees it through api.deps.Backend). ``start()`` reads like its table of contents."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db: Engine = make_engine(settings.db_url)
        self.live = LiveBus()
        self.snapshots = SnapshotService.with_clip_dir(
            settings.demo_video_dir,
            rendered=settings.demo_synthetic,
            style=MaskStyle(settings.privacy_style),
        )
        self.runtimes: dict[str, MunicipalityRuntime] = {}
        self.pipeline: IngestPipeline | None = None
        self.camera_health: CameraHealthMonitor | None = None
        self.broker: EmbeddedBroker | SupervisedMosquitto | None = None
        self.mqtt: MqttIngest | None = None
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

    def start(self, *, with_mqtt: bool = True) -> None:
        # Three busy threads share the GIL (MQTT network, ingest worker, API loop): hand it over
        # every millisecond instead of every 5, so a threshold crossing is not held up behind a
        # large batch (measured: p99 trigger-to-console latency, docs/BENCHMARKS.md).
        sys.setswitchinterval(0.001)
        upgrade(self.settings.db_url)
        self.runtimes = self.load_runtimes()
        self.start_pipeline()
        if self.settings.config_poll_s > 0:
            self.watch_config(self.settings.config_poll_s)
        if self.settings.camera_probe_s > 0:
            self.start_camera_health()
        self.start_housekeeping()
        if self.settings.dispatch_poll_s > 0:
            self.start_dispatch()
            self.start_cap_out()
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
        self.pipeline = IngestPipeline(
            self.db,
            self.runtimes,
            live=self.live,
            max_payload_bytes=self.settings.max_payload_bytes,
            max_batch=self.settings.max_batch,
            window=reading_window(self.settings),
            dead_letters=dead_letter_bounds(self.settings),
        )
        self.runtimes = self.pipeline.runtimes  # one dict: the pipeline may rebuild entries
        self.pipeline.start()

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
        """The embedded broker (CITYOPS_BROKER, docs/MQTT.md "Embedded broker"): Mosquitto
        supervised by CityOps when installed, else amqtt in this process. Both hold clients to
        their device credentials (anonymous ones only with CITYOPS_MQTT_ANONYMOUS); this
        process's ingest and video worker get credentials of their own, with unguessable
        usernames (their client ids; Mosquitto's are kept, so the ingest's session survives)."""
        s, url = self.settings, self.settings.broker_url
        binary = find_mosquitto(s.mosquitto_bin)
        broker: EmbeddedBroker | SupervisedMosquitto
        if embedded_kind(s.broker, binary) == "mosquitto":
            assert binary is not None
            broker = SupervisedMosquitto(
                binary,
                s.data_dir / "broker",
                self.db,
                host=s.mqtt_host,
                port=s.mqtt_port,
                anonymous=s.mqtt_anonymous,
            )
            ingest = s.mqtt_client_id or broker.internal_name("ingest")
            video = broker.internal_name("video")
            register = broker.add_internal
        else:
            authority = BrokerAuthority(self.db, anonymous=s.mqtt_anonymous)
            broker = EmbeddedBroker(s.mqtt_host, s.mqtt_port, authority)
            ingest = s.mqtt_client_id or f"cityops-ingest-{secrets.token_hex(8)}"
            video = f"cityops-video-{secrets.token_hex(8)}"
            register = authority.add_internal
        self.ingest_url = with_credentials(url, ingest, register(ingest))
        if self.video_url is None:
            self.video_url = with_credentials(url, video, register(video))
        self.broker = broker
        broker.start()
        log.info("embedded MQTT broker (%s) on %s", type(broker).__name__, broker.url)

    def start_mqtt_client(self) -> None:
        assert self.pipeline is not None, "the pipeline takes what the MQTT client receives"
        amqtt = isinstance(self.broker, EmbeddedBroker)  # speaks MQTT 3.1.1 only
        protocol = self.settings.mqtt_protocol or ("3.1.1" if amqtt else "5")
        username = parse_mqtt_url(self.ingest_url).username
        self.mqtt = MqttIngest(
            self.ingest_url,
            self.pipeline,
            ingest_client_id(self.settings.data_dir, username, self.settings.mqtt_client_id),
            protocol=protocol,
            embedded=amqtt,
            agency=AgencyRequestServer(self.db, self.runtimes, self.live, self.settings.public_url),
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
                        and self.pipeline.reload(self.load_runtimes())
                    ):
                        seen = current
                        log.info("configuration version %d applied", current)
                        if self.mqtt is not None:
                            self.mqtt.update_subscriptions()
                        if self.video is not None:
                            configs = [rt.config for rt in self.runtimes.values()]
                            self.video.set_jobs(video_jobs(self.settings, configs))
                except Exception:  # a bad database moment must not end the watcher
                    log.exception("configuration reload failed; will retry")

        threading.Thread(target=loop, name="cityops-config", daemon=True).start()

    def stop(self) -> None:
        if self._config_stop is not None:
            self._config_stop.set()
        if self.camera_health is not None:
            self.camera_health.stop()
        if self.video is not None:
            self.video.stop()
        if self.cap_mqtt is not None:
            self.cap_mqtt.stop()
        if self.cap_feeds is not None:
            self.cap_feeds.stop()
        # The pipeline first: what it still holds is stored and acknowledged while the MQTT
        # client is connected, so a clean stop leaves nothing for the broker to redeliver.
        if self.pipeline is not None:
            self.pipeline.stop()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.housekeeping is not None:
            self.housekeeping.stop()
        if self.dispatch is not None:
            self.dispatch.stop()
        if self.cap_out is not None:
            self.cap_out.stop()
        self.snapshots.close()
        self.db.dispose()


def dispatch_config(settings: Settings) -> DispatchConfig:
    smtp = None
    if settings.smtp_host:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            cafile=settings.smtp_cafile,
        )
    return DispatchConfig(
        public_url=settings.public_url,
        smtp=smtp,
        retry=RetryPolicy(
            max_attempts=settings.dispatch_max_attempts,
            base_s=settings.dispatch_backoff_s,
            cap_s=settings.dispatch_backoff_cap_s,
        ),
        poll_s=settings.dispatch_poll_s,
    )
