"""Engines and migrations: one SQLite file (WAL) by default, PostgreSQL by URL.

A PostgreSQL URL may name a primary and its standbys (libpq multi-host,
``postgresql+psycopg://user@/db?host=a:5432&host=b:5432``): every new connection goes to the one
that takes writes, so after a failover the pool finds the promoted standby by itself (docs/HA.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")

FAILOVER_DEFAULTS: dict[str, str] = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}
"""libpq settings a PostgreSQL URL gets unless it names them itself. libpq tries the hosts of a
multi-host URL in turn: without ``connect_timeout`` (psycopg's default is 130 s per host) a
primary that vanished without a trace (power loss, a partition: no TCP reset) would hold every
reconnect for minutes before the standby is tried; the keepalives and ``tcp_user_timeout`` end a
connection to such a host in about a minute instead of the kernel's quarter of an hour."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine tuned for CityOps' access pattern on either backend."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pool_pre_ping: a pooled connection to a server that died (or was demoted) is found dead
    # at checkout and replaced by a new one, which libpq sends to the host taking writes now.
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args=failover_connect_args(url),
    )
    # Batched INSERTs (readings, rule state) as multi-row VALUES statements instead of one
    # statement per row: several times faster on PostgreSQL.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def failover_connect_args(url: str) -> dict[str, str]:
    """libpq connection settings ``url`` leaves to CityOps: ``FAILOVER_DEFAULTS``, and
    ``target_session_attrs=read-write`` when the URL names more than one host (libpq's default,
    ``any``, would connect to a read-only standby while the primary is down: every write would
    then be refused instead of retried until a standby is promoted)."""
    parsed = make_url(url)
    query = parsed.query
    args = {k: v for k, v in FAILOVER_DEFAULTS.items() if k not in query}
    hosts = query.get("host", ())
    names = [hosts] if isinstance(hosts, str) else list(hosts)
    several = sum(len(name.split(",")) for name in names) > 1  # host=a:1&host=b:2 or host=a,b
    if several and "target_session_attrs" not in query:
        args["target_session_attrs"] = "read-write"
    return args


def libpq_params(url: str) -> dict[str, Any]:
    """psycopg.connect() keyword arguments for a connection of one's own outside the pool (a
    ``LISTEN``), with the same hosts and failover settings as the engine's connections. Use
    these rather than rendering the URL again: libpq does not read SQLAlchemy's multi-host form
    (``?host=a:5432&host=b:5432``)."""
    parsed = make_url(url)
    _, params = parsed.get_dialect()().create_connect_args(parsed)
    return {**params, **failover_connect_args(url)}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only power loss can
    # roll back the last transactions, never corrupt the file.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if it is empty)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        rev: str | None = MigrationContext.configure(conn).get_current_revision()
        return rev
