"""`cityops serve` refuses to start insecurely: default, weak or missing secrets outside
development, anonymous MQTT beyond loopback, and HTTP beyond loopback while nobody could log in.
The refusals run the real command; what lets a server through is checked on the functions."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cityops.cli_support import (
    administrators,
    banner,
    bind_problems,
    is_loopback,
    settings_problems,
)
from cityops.domain.access import Membership, Role
from cityops.services import accounts
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade
from tests.harness import free_port

STRONG = "Zq7-tR2p-Wm9x-Lb4k"


def run_serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith("CITYOPS_") and k != "COLUMNS"
    }
    environ |= {
        "CITYOPS_DATA_DIR": str(tmp_path),
        "CITYOPS_HTTP_PORT": str(free_port()),
        "CITYOPS_MQTT_PORT": str(free_port()),
        "CITYOPS_VIDEO_WORKER": "false",
        "CITYOPS_CAMERA_PROBE_S": "0",
        "CITYOPS_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "from cityops.cli import app; app()", "serve"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CITYOPS_MQTT_URL": "mqtt://ingest:changeme@127.0.0.1:1"}, "default or short password"),
        ({"CITYOPS_MQTT_URL": "mqtt://127.0.0.1:1"}, "has no password"),
        ({"CITYOPS_SESSION_COOKIE_SECURE": "false"}, "over plain http"),
        ({"CITYOPS_MQTT_ANONYMOUS": "true"}, "without credentials"),
        (
            {"CITYOPS_DATABASE_URL": "postgresql+psycopg://cityops:postgres@127.0.0.1:1/c"},
            "CITYOPS_DATABASE_URL has a default",
        ),
    ],
)
def test_production_refuses_default_and_missing_secrets(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    done = run_serve(tmp_path, **env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "will not start insecurely" in done.stdout
    assert says in done.stdout
    assert not (tmp_path / "cityops.db").exists(), "refused before anything was started"


def test_serve_refuses_to_listen_beyond_loopback_with_nobody_to_log_in(tmp_path: Path) -> None:
    port = free_port()
    done = run_serve(tmp_path, CITYOPS_HTTP_HOST="0.0.0.0", CITYOPS_HTTP_PORT=str(port))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "nobody could log in" in done.stdout
    assert "cityops users create" in done.stdout
    assert not listening(port)


def test_anonymous_mqtt_beyond_loopback_is_refused_even_in_development() -> None:
    s = Settings(env="development", mqtt_anonymous=True, mqtt_host="0.0.0.0")
    assert any("anonymous MQTT" in p for p in settings_problems(s))
    assert settings_problems(s.model_copy(update={"mqtt_host": "127.0.0.1"})) == []


def test_development_refuses_nothing_and_production_a_clean_setup_nothing() -> None:
    laptop = Settings(
        env="development",
        session_cookie_secure=False,
        mqtt_anonymous=True,
        mqtt_url="mqtt://127.0.0.1:1883",
    )
    assert laptop.insecure() == []
    assert Settings(env="production").insecure() == []
    strong = Settings(env="production", mqtt_url=f"mqtts://ingest:{STRONG}@broker:8883")
    assert strong.insecure() == []
    peer = Settings(env="production", database_url="postgresql+psycopg:///cityops")
    assert peer.insecure() == [], "a socket login without a password is the database's choice"
    short = Settings(env="production", mqtt_url="mqtt://ingest:Sh0rt%21@broker")
    assert short.insecure() == [
        "CITYOPS_MQTT_URL has a default or short password (at least 12 chars)"
    ]
    assert Settings(env="production", smtp_password="changeme").insecure() == [
        "CITYOPS_SMTP_PASSWORD is a default or short password (at least 12 chars)"
    ]
    assert Settings(env="production", smtp_password=STRONG).insecure() == []
    worker = Settings(env="production", video_mqtt_url="mqtt://_all.worker@broker")
    assert worker.insecure() == ["CITYOPS_VIDEO_MQTT_URL has no password (user:password@host)"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("cityops.example", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'cityops.db'}"
    upgrade(url)
    return make_engine(url)


def test_an_administrator_or_single_sign_on_opens_the_network(db: Engine, tmp_path: Path) -> None:
    public = Settings(http_host="0.0.0.0")
    assert bind_problems(public, db) != []
    assert bind_problems(Settings(http_host="127.0.0.1"), db) == []
    sso = public.model_copy(update={"oidc_config": tmp_path / "oidc.yaml"})
    assert bind_problems(sso, db) == []
    now = datetime.now(UTC)
    with db.begin() as conn:
        uid = accounts.create_user(
            conn, username="op", display_name="Op", password=None, installation_admin=False, now=now
        )
        accounts.grant(
            conn,
            uid,
            Membership("testtown", Role.OPERATOR, None, None, False),
            granted_by="t",
            now=now,
        )
    assert administrators(db) == 0, "an operator administers nothing"
    assert bind_problems(public, db) != []
    with db.begin() as conn:
        accounts.grant(
            conn,
            uid,
            Membership("testtown", Role.ADMIN, None, now + timedelta(days=1), False),
            granted_by="t",
            now=now,
        )
    assert administrators(db) == 1
    assert bind_problems(public, db) == []


def test_the_banner_never_prints_a_password() -> None:
    s = Settings(
        mqtt_url=f"mqtts://_all.ingest:{STRONG}@broker:8883",
        database_url=f"postgresql+psycopg://cityops:{STRONG}@db/cityops",
    )
    text = "\n".join(banner(s))
    assert STRONG not in text
    assert "mqtts://_all.ingest:***@broker:8883" in text
    assert "postgresql+psycopg://cityops:***@db/cityops" in text
