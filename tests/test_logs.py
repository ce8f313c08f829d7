"""The commands' log: CityOps's own messages at INFO, libraries' chatter only at DEBUG."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityops.logs import configure_logging, uvicorn_log_level

LIBRARY_CHATTER = [
    ("transitions.core", "Finished processing state started enter callbacks."),
    ("amqtt.broker.plugins.event_logger_plugin", "### 'on_broker_client_connected' EVENT FIRED"),
    ("asyncio", "Using selector: EpollSelector"),
    ("httpx", "HTTP Request: GET http://127.0.0.1/ 200 OK"),
    ("paho.mqtt.client", "Sending PINGREQ"),
]
# SQLAlchemy sets its own "sqlalchemy" logger to WARNING when imported (its statement log is
# `echo`), so its chatter stays hidden even at DEBUG.
SQL_CHATTER = ("sqlalchemy.engine.Engine", "BEGIN (implicit)")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the global logging state back as the test found it. The library loggers start with
    no level of their own (as in a fresh process), whatever earlier tests in this process set.
    (uvicorn's loggers are uvicorn's own: it configures them when a server runs, from
    uvicorn_log_level.)"""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ["cityops", *(name for name, _ in LIBRARY_CHATTER)]
    levels = {name: logging.getLogger(name).level for name in names}
    for name, _ in LIBRARY_CHATTER:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def _emit_everything() -> None:
    import sqlalchemy  # noqa: F401  (as in every command: it sets its logger's level on import)

    for name, message in [*LIBRARY_CHATTER, SQL_CHATTER]:
        logging.getLogger(name).info(message)
    logging.getLogger("cityops.app").info("control center started: 1 municipalities")
    logging.getLogger("cityops.ingest.pipeline").debug("batch of 3 readings written")
    logging.getLogger("amqtt.broker").warning("Configuration parameter 'password-file' not found")


@pytest.mark.usefixtures("restore_logging")
def test_info_shows_cityops_and_library_warnings_only() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    _emit_everything()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("INFO cityops.app: control center started: 1 municipalities")
    assert lines[1].endswith(
        "WARNING amqtt.broker: Configuration parameter 'password-file' not found"
    )


@pytest.mark.usefixtures("restore_logging")
def test_debug_shows_everything() -> None:
    out = io.StringIO()
    configure_logging("debug", stream=out)
    _emit_everything()
    text = out.getvalue()
    for name, message in LIBRARY_CHATTER:
        assert f"INFO {name}: {message}" in text
    assert "DEBUG cityops.ingest.pipeline: batch of 3 readings written" in text
    assert len(text.splitlines()) == len(LIBRARY_CHATTER) + 3


@pytest.mark.usefixtures("restore_logging")
def test_warning_level_quiets_cityops_info_and_a_second_call_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=first)
    configure_logging("WARNING", stream=second)
    _emit_everything()
    assert first.getvalue() == ""
    assert (
        second.getvalue()
        .splitlines()[-1]
        .endswith("WARNING amqtt.broker: Configuration parameter 'password-file' not found")
    )
    assert len(second.getvalue().splitlines()) == 1


def test_unknown_level_is_refused_and_uvicorn_follows_debug() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging("LOUD")
    assert uvicorn_log_level("INFO") == "warning"
    assert uvicorn_log_level("DEBUG") == "debug"


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_a_real_command_logs_library_info_only_at_debug(
    tmp_path: Path, level: str, shown: bool
) -> None:
    """`cityops db upgrade` runs Alembic, which logs each migration at INFO."""
    env = {**os.environ, "CITYOPS_DATA_DIR": str(tmp_path), "CITYOPS_LOG_LEVEL": level}
    run = subprocess.run(
        [sys.executable, "-m", "cityops.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "database is up to date" in run.stdout
    assert ("INFO alembic.runtime.migration: Running upgrade" in run.stderr) is shown, run.stderr
