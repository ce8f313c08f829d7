"""Logging for the ``cityops`` commands: CityOps's own messages readable, libraries quiet.

CityOps's loggers (``cityops.*``) log at the configured level (``CITYOPS_LOG_LEVEL``, default
INFO). Every other logger (the embedded broker ``amqtt`` and its state machine ``transitions``,
``uvicorn``, ``sqlalchemy``, ``alembic``, ``httpx``, ``paho``, ``asyncio`` ...) inherits the root
logger's WARNING, so their chatter stays out of an operator's log. ``CITYOPS_LOG_LEVEL=DEBUG``
shows everything at DEBUG, libraries included, except SQLAlchemy: it sets its own logger to
WARNING when imported, and its statement log is turned on by its ``echo`` flag, not by us.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

OWN_LOGGER = "cityops"
LIBRARY_LEVEL = logging.WARNING
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _CityOpsHandler(logging.StreamHandler[TextIO]):
    """The handler configure_logging installs (so a second call replaces it, not adds one)."""


def _level_number(level: str) -> int:
    number = logging.getLevelName(level.strip().upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r} (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return number


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send log records to ``stream`` (default stderr): CityOps's at ``level``, libraries' at
    WARNING (or ``level`` when stricter), all at DEBUG when ``level`` is DEBUG."""
    own = _level_number(level)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _CityOpsHandler)]:
        root.removeHandler(handler)
        handler.close()
    handler = _CityOpsHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(own if own <= logging.DEBUG else max(own, LIBRARY_LEVEL))
    logging.getLogger(OWN_LOGGER).setLevel(own)


def uvicorn_log_level(level: str) -> str:
    """uvicorn's own level (its error and access logs): ``debug`` at DEBUG, else ``warning``,
    so the console's every request is not logged."""
    return "debug" if _level_number(level) <= logging.DEBUG else "warning"
