"""A throwaway PostgreSQL server on a loopback port (servers.py)."""

from __future__ import annotations

import pwd
import re
import signal
import uuid
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

from .process import (
    POSTGRES_MISSING,
    ServerUnavailableError,
    _is_root,
    _make_dir,
    _os_user,
    find_postgres_bin,
    postgres_unavailable_reason,
    run_tool,
)
from .server_base import _Server

_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresServer(_Server):
    """A throwaway PostgreSQL server on 127.0.0.1 with database ``cityops_test``.

    initdb runs once per instance (about a second); durability is off (fsync,
    synchronous_commit, full_page_writes) since the data is discarded, unless ``durable=True``
    (all three on, as in production: for benchmarks that must pay for the disk); every local
    and loopback connection is trusted, as superuser ``postgres``. ``settings`` adds ``-c
    name=value`` server settings (and overrides the above).
    """

    name = "postgresql"
    stop_signal = signal.SIGINT  # "fast" shutdown: does not wait for clients to disconnect
    pdeath_signal = "INT"
    user = "postgres"

    def __init__(
        self,
        port: int | None = None,
        *,
        database: str = "cityops_test",
        settings: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
        durable: bool = False,
    ) -> None:
        reason = postgres_unavailable_reason()
        bin_dir = find_postgres_bin()
        if reason is not None or bin_dir is None:
            raise ServerUnavailableError(reason or POSTGRES_MISSING)
        super().__init__(port, start_timeout)
        self.bin_dir = bin_dir
        self.database = _check_db_name(database)
        self.settings = dict(settings or {})
        self.durable = durable
        """fsync, synchronous_commit and full_page_writes on (off by default)."""
        self._created_main = False

    @property
    def url(self) -> str:
        """``postgresql+psycopg://postgres@127.0.0.1:<port>/cityops_test`` (SQLAlchemy URL)."""
        return self.url_for(self.database)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of another database on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str | None = None) -> str:
        """libpq connection string (for psycopg.connect, psql)."""
        db = database or self.database
        return f"host={self.host} port={self.port} user={self.user} dbname={db}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (named ``name``, or a fresh unique name); return its URL."""
        db = _check_db_name(name or f"t_{uuid.uuid4().hex[:16]}")
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        return self.url_for(db)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its clients first; no error if it does not exist."""
        db = _check_db_name(name)
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(statement)

    def _owner(self) -> pwd.struct_passwd | None:
        return _os_user("postgres") if _is_root() else None

    def _prepare(self) -> Path:
        base = _make_dir("cityops-postgres-", self._owner())
        run_tool(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(base / "data"),
                "--username",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            base,
            self._owner(),
        )
        self._created_main = False
        return base

    def _command(self) -> list[str]:
        durability = "on" if self.durable else "off"
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.base_dir),
            "fsync": durability,
            "synchronous_commit": durability,
            "full_page_writes": durability,
            "max_connections": "200",
            "logging_collector": "off",
            "log_destination": "stderr",
            "log_min_messages": "warning",
            **self.settings,
        }
        cmd = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def _ready(self) -> bool:
        try:
            with psycopg.connect(self.conninfo("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def _after_start(self) -> None:
        if not self._created_main:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            self._created_main = True

    @property
    def log_path(self) -> Path:
        return self.base_dir / "stdout.log"


def _check_db_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise ValueError(
            f"database name {name!r}: use lower-case letters, digits and _ (max 63 characters)"
        )
    return name
