"""Settings from the environment (``CITYOPS_*``), with safe defaults for the embedded demo."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOPS_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    mqtt_url: str | None = Field(
        default=None, description="External broker; unset starts the embedded broker"
    )
    mqtt_client_id: str | None = Field(
        default=None, description="Persistent-session client id; default cityops-ingest-<host>"
    )
    mqtt_protocol: str | None = Field(
        default=None,
        description="'5' or '3.1.1'; default 5 for an external broker, 3.1.1 for the embedded one",
        pattern=r"^(5|3\.1\.1)$",
    )
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    broker: Literal["auto", "mosquitto", "amqtt"] = Field(
        default="auto",
        description="The embedded broker (when CITYOPS_MQTT_URL is unset): 'mosquitto' started "
        "and supervised by CityOps (keeps what it acknowledged when CityOps is killed), 'amqtt' "
        "in-process (loses it), 'auto' Mosquitto when installed, else amqtt (docs/MQTT.md, "
        "Embedded broker)",
    )
    mosquitto_bin: str | None = Field(
        default=None, description="The mosquitto binary; default: on PATH or /usr/sbin"
    )
    mqtt_anonymous: bool = Field(
        default=False,
        description="The embedded broker admits clients without a device credential (full "
        "access, as before credentials): set by `cityops demo` for its simulator; never in "
        "production (docs/MQTT.md, Authentication and ACLs)",
    )
    video_mqtt_url: str | None = Field(
        default=None,
        description="The video worker's broker URL with its own credential (mqtt://user:secret@"
        "host); default: CITYOPS_MQTT_URL. Needed by the in-process worker when "
        "CITYOPS_MQTT_URL carries the ingest's credential",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_payload_bytes: int = 262144
    max_batch: int = 5000
    reading_max_age_s: float = Field(
        default=400 * 86400,
        ge=0,
        description="Readings and events older than this (own timestamp vs receipt) are "
        "rejected as too_old; 0: no limit. 400 days: a replayed year still fits",
    )
    reading_max_future_s: float = Field(
        default=300, ge=0, description="Timestamps further ahead of the receipt are rejected"
    )
    dead_letter_max_age_s: float = Field(
        default=7 * 86400, ge=0, description="Dead letters older than this are pruned (0: keep)"
    )
    dead_letter_max_count: int = Field(
        default=100_000, ge=1, description="At most this many dead letters are kept"
    )
    dead_letter_max_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1, description="Total stored dead-letter payload kept"
    )
    dead_letter_payload_bytes: int = Field(
        default=16384, ge=0, description="A dead letter's payload is stored cut to this size"
    )
    ingest_stall_s: float = Field(
        default=30.0,
        gt=0,
        description="Health is degraded when a backlog waits and no batch completed this long",
    )
    tile_url: str | None = Field(
        default=None, description="Online tile layer URL template for connected installations"
    )
    default_language: str = "bg"
    demo_video_dir: Path | None = Field(
        default=None,
        description="Recorded clips that stand in for the cameras' streams (demonstrations)",
    )
    privacy_style: str = Field(
        default="black",
        pattern=r"^(black|pixelate|blur)$",
        description="How configured privacy masks are obscured in every image shown or stored",
    )
    demo_synthetic: bool = Field(
        default=False,
        description="Cameras show their rendered demo scenes (demo_stream_url); set by "
        "`cityops demo` when it has no recorded clips",
    )
    log_level: str = "INFO"
    camera_probe_s: float = Field(
        default=60.0, description="How often every camera's stream is probed for health (0: off)"
    )
    sensor_stale_factor: float = Field(
        default=3.0,
        gt=0,
        description="A sensor silent for this many expected intervals is shown as stale",
    )
    video_worker: bool = Field(
        default=True,
        description="Run a video worker inside `cityops serve` / `cityops demo` (off: only the "
        "workers started with `cityops video-worker` analyse the cameras)",
    )
    video_worker_id: str | None = Field(
        default=None, description="The worker's id on the presence topic; default <host>-<pid>"
    )
    video_keepalive_s: int = Field(
        default=10,
        ge=2,
        description="MQTT keep-alive of a video worker: a dead worker's cameras are taken over "
        "within 1.5 x this + 6 s when its host vanishes (about 1 s when its process dies)",
    )
    # Event evidence (docs/VIDEO.md "Evidence"): snapshots and clips of the video events.
    evidence_dir: Path | None = Field(
        default=None,
        description="Where the events' snapshots and clips are kept; default <data_dir>/evidence. "
        "A worker on another host writes into the same directory, shared (e.g. NFS)",
    )
    evidence: bool = Field(default=True, description="Video workers keep evidence of events")
    evidence_pre_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of video kept before an event"
    )
    evidence_post_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of video recorded after an event"
    )
    evidence_max_clip_s: float = Field(
        default=60.0, ge=1, le=600, description="The longest clip events joining it may make"
    )
    evidence_retention_days: float = Field(
        default=30.0, gt=0, description="Snapshots and clips older than this are deleted"
    )
    config_poll_s: float = Field(
        default=5.0, description="How often a running server looks for a newly imported config"
    )
    # accounts (A): console sessions
    session_idle_s: float = Field(
        default=2 * 3600, gt=0, description="A console session unused this long ends"
    )
    session_absolute_s: float = Field(
        default=12 * 3600, gt=0, description="A console session ends this long after login"
    )
    session_cookie_secure: bool = Field(
        default=True,
        description="The session cookie is Secure (HTTPS only); false only for plain-http "
        "development on loopback (`cityops demo` sets it)",
    )
    auth_cache_s: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="A request's session or token, account and memberships are reused from "
        "this process's cache for this long; changes made in the same process apply at once, "
        "in another process of the deployment within this time; 0: no cache "
        "(docs/SECURITY.md, Principal cache)",
    )
    # single sign-on (B): docs/SECURITY.md "Console and single sign-on"
    oidc_config: Path | None = Field(
        default=None,
        description="YAML file of the OpenID Connect providers (municipalities' own identity "
        "providers) and how their claims map to accounts and roles; unset: password login only",
    )

    # hardening (E): docs/SECURITY.md "Hardening"
    env: Literal["development", "production"] = Field(
        default="production",
        description="production refuses default, weak or missing secrets and insecure "
        "switches at `cityops serve` (Settings.insecure); `cityops demo` runs as development",
    )
    max_request_bytes: int = Field(
        default=65536, ge=1024, description="Largest request body outside ingest (413 beyond)"
    )
    login_rate_per_min: float = Field(
        default=10.0, ge=0, description="Login attempts per minute per client address (0: off)"
    )
    login_burst: int = Field(
        default=30, ge=1, description="Login attempts at once (a control room behind one address)"
    )
    ingest_rate_per_s: float = Field(
        default=20.0, ge=0, description="HTTP ingest requests per second per client (0: off)"
    )
    ingest_burst: int = Field(default=200, ge=1, description="HTTP ingest requests at once")

    # audit and retention (C): docs/SECURITY.md "Audit", docs/PRIVACY.md
    retention_interval_s: float = Field(
        default=3600.0, ge=0, description="How often the server runs retention (0: never)"
    )
    audit_anchor_interval_s: float = Field(
        default=3600.0, ge=0, description="How often the server anchors the audit chains (0: never)"
    )
    audit_anchor_export: Path | None = Field(
        default=None,
        description="A file each anchor is also appended to (JSON lines): keep it where the "
        "database's users cannot rewrite it (another host, write-once storage)",
    )

    # dispatch out (K, issue 9): docs/DISPATCH.md
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="This CityOps's address as agencies reach it (links, acknowledgments)",
    )
    dispatch_poll_s: float = Field(
        default=1.0, ge=0, description="How often the outbox is worked (0: no dispatch worker)"
    )
    dispatch_max_attempts: int = Field(default=8, ge=1, le=100, description="Tries, then failed")
    dispatch_backoff_s: float = Field(default=5.0, gt=0, description="First retry's wait")
    dispatch_backoff_cap_s: float = Field(default=900.0, gt=0, description="Longest retry wait")
    dispatch_ack_tolerance_s: float = Field(
        default=300.0, gt=0, description="Largest clock difference a signed callback may have"
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for dispatch e-mail")
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_cafile: Path | None = None
    smtp_from: str = "cityops@localhost"
    # public warnings out (CAP 1.2, docs/CAP.md)
    cap_sender: str = Field(
        default="cityops@localhost", description="The CAP <sender> of the warnings CityOps writes"
    )
    cap_signing_key: Path | None = Field(
        default=None, description="PEM private key signing CityOps's CAP messages (optional)"
    )
    cap_signing_cert: Path | None = Field(
        default=None, description="PEM certificate of that key, put in each signature"
    )
    # multi-process ingest (docs/SCALING.md)
    ingest: Literal["internal", "external"] = Field(
        default="internal",
        description="'external': `cityops serve` consumes no readings over MQTT and takes no "
        "HTTP ingest; `cityops ingest` processes do (PostgreSQL only), and the live feed "
        "comes from them through PostgreSQL LISTEN/NOTIFY",
    )
    ingest_lease_s: float = Field(
        default=10.0, gt=0, description="A partition's lease and a member's heartbeat validity"
    )
    ingest_heartbeat_s: float = Field(
        default=2.0, gt=0, description="How often an ingest process heartbeats and balances"
    )
    ingest_client_prefix: str = Field(
        default="cityops-ingest",
        max_length=40,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Partition sessions' MQTT client ids: <prefix>-<municipality>",
    )
    ingest_member_id: str | None = Field(
        default=None, max_length=128, description="This ingest process's id; default host-pid"
    )
    ingest_secret: str | None = Field(
        default=None,
        description="Shared by `cityops ingest` members and `cityops mqtt sync`: each "
        "partition's broker password is derived from it (docs/SCALING.md, Partition "
        "credentials); at least 32 characters",
    )
    ingest_secret_file: Path | None = Field(
        default=None, description="A file holding the ingest secret (instead of the variable)"
    )

    @property
    def broker_url(self) -> str:
        """The broker in use: ``mqtt_url``, else the embedded broker's address."""
        return self.mqtt_url or f"mqtt://{self.mqtt_host}:{self.mqtt_port}"

    @property
    def evidence_root(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'cityops.db').as_posix()}"

    def insecure(self) -> list[str]:
        """What production refuses (empty in development): default, weak or missing secrets
        and switches meant only for a laptop. `cityops serve` will not start with any."""
        if self.env == "development":
            return []
        found = []
        if self.mqtt_url is not None:
            found += _weak_secret("CITYOPS_MQTT_URL", self.mqtt_url, required=True)
        if self.video_mqtt_url is not None:
            found += _weak_secret("CITYOPS_VIDEO_MQTT_URL", self.video_mqtt_url, required=True)
        if self.database_url is not None:
            found += _weak_secret("CITYOPS_DATABASE_URL", self.database_url, required=False)
        if not self.session_cookie_secure:
            found.append("CITYOPS_SESSION_COOKIE_SECURE=false sends the session over plain http")
        if self.smtp_password is not None and _weak(self.smtp_password):
            found.append(f"CITYOPS_SMTP_PASSWORD is a default or short password{_AT_LEAST}")
        if self.mqtt_anonymous:
            found.append("CITYOPS_MQTT_ANONYMOUS=true admits MQTT clients without credentials")
        return found


DEFAULT_SECRETS = frozenset(
    {"", "admin", "changeme", "change-me", "cityops", "demo", "guest", "letmein", "mosquitto"}
    | {"password", "postgres", "public", "secret", "test", "123456", "12345678"}
)
MIN_SECRET_LENGTH = 12


def _weak_secret(name: str, url: str, *, required: bool) -> list[str]:
    """The password in ``url``: missing (when ``required``), a known default, or too short."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return [f"{name} is not a valid URL"]
    if password is None:
        return [f"{name} has no password (user:password@host)"] if required else []
    if _weak(unquote(password)):
        return [f"{name} has a default or short password{_AT_LEAST}"]
    return []


_AT_LEAST = f" (at least {MIN_SECRET_LENGTH} chars)"


def _weak(secret: str) -> bool:
    return secret.lower() in DEFAULT_SECRETS or len(secret) < MIN_SECRET_LENGTH
