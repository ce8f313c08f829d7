"""What the processes share: stored configurations -> runtimes, the pipeline, the workers'
configurations, and the configuration watcher."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from cityops.config.loader import load_config, load_config_text
from cityops.dispatch.senders import SmtpConfig
from cityops.dispatch.worker import DispatchConfig
from cityops.domain.analytics import TamperSpec
from cityops.domain.audit import AuditAction
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.dispatch import RetryPolicy
from cityops.domain.staleness import DEFAULT_STALE_FACTOR
from cityops.ingest.payloads import TimeWindow
from cityops.ingest.pipeline import Fence, IngestPipeline
from cityops.mqtt_url import parse_mqtt_url
from cityops.services import audit
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime
from cityops.settings import Settings
from cityops.store import catalog_repo
from cityops.store.observations_repo import DeadLetterBounds
from cityops.video.evidence import EvidenceConfig
from cityops.video.masking import MaskStyle
from cityops.video.sources import clip_files
from cityops.video.worker import CameraJob, VideoWorker, camera_jobs

log = logging.getLogger("cityops.app")


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


def configured(db: Engine) -> list[str]:
    """The municipalities that have a stored configuration (cheap: nothing is parsed)."""
    with db.connect() as conn:
        return sorted({s.municipality for s in catalog_repo.latest_configs(conn)})


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


def make_pipeline(
    settings: Settings,
    db: Engine,
    runtimes: Mapping[str, MunicipalityRuntime],
    live: LiveBus,
    fence: Fence | None = None,
    kind: type[IngestPipeline] = IngestPipeline,
) -> IngestPipeline:
    """The ingest pipeline (of ``kind``) as the settings configure it, not started."""
    return kind(
        db,
        runtimes,
        live=live,
        max_payload_bytes=settings.max_payload_bytes,
        max_batch=settings.max_batch,
        window=reading_window(settings),
        dead_letters=dead_letter_bounds(settings),
        fence=fence,
    )


def watch_config(db: Engine, interval_s: float, apply: Callable[[], bool]) -> threading.Event:
    """Call ``apply`` when a newer configuration was imported (``cityops import-config``)
    until it returns True; set the returned event to stop watching."""
    stop = threading.Event()

    def newest() -> int:
        with db.connect() as conn:
            return catalog_repo.newest_version(conn)

    seen = newest()

    def loop() -> None:
        nonlocal seen
        while not stop.wait(interval_s):
            try:
                current = newest()
                if current != seen and apply():
                    seen = current
                    log.info("configuration version %d applied", current)
            except Exception:  # a bad database moment must not end the watcher
                log.exception("configuration reload failed; will retry")

    threading.Thread(target=loop, name="cityops-config", daemon=True).start()
    return stop


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


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))
