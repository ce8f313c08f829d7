"""Real Mosquitto and PostgreSQL servers on loopback ports, for tests and benchmarks.

Plain Python (no pytest): ``tests/conftest.py`` wraps these classes in fixtures, and ``bench/``
scripts can use them directly::

    from tests.harness import MosquittoServer, PostgresServer

    with MosquittoServer() as broker, PostgresServer() as pg:
        run_benchmark(mqtt_url=broker.url, database_url=pg.url)

Every server gets its own temporary directory (configuration, data, logs) under /tmp, listens on
127.0.0.1 only, and runs in its own process session. ``stop()`` (also called by ``__exit__`` and,
as a last resort, at interpreter exit) shuts it down gracefully, kills what is left of it and
removes the directory. The servers are also started under ``setpriv --pdeathsig`` where
available, so they shut down when the thread that started them dies (even by SIGKILL) and never
outlive the test run.

When run as root, Mosquitto runs as the ``mosquitto`` user and PostgreSQL as the ``postgres``
user (PostgreSQL refuses to run as root); otherwise both run as the current user.
"""

from __future__ import annotations

from cityops.bus.mosquitto_conf import find_mosquitto

from .mosquitto import MosquittoServer, _mqtt_connects
from .postgres import PostgresServer
from .process import (
    LOOPBACK,
    MOSQUITTO_MISSING,
    POSTGRES_MISSING,
    Running,
    ServerStartError,
    ServerUnavailableError,
    _child_env,
    _make_dir,
    _pdeathsig_prefix,
    _run_as,
    _sweep_stale,
    find_postgres_bin,
    free_port,
    mosquitto_unavailable_reason,
    postgres_unavailable_reason,
    run_tool,
)

__all__ = [
    "LOOPBACK",
    "MOSQUITTO_MISSING",
    "POSTGRES_MISSING",
    "MosquittoServer",
    "PostgresServer",
    "Running",
    "ServerStartError",
    "ServerUnavailableError",
    "_child_env",
    "_make_dir",
    "_mqtt_connects",
    "_pdeathsig_prefix",
    "_run_as",
    "_sweep_stale",
    "find_mosquitto",
    "find_postgres_bin",
    "free_port",
    "mosquitto_unavailable_reason",
    "postgres_unavailable_reason",
    "run_tool",
]
