"""Leases of multi-process ingest on PostgreSQL (docs/SCALING.md; tables in tables_cluster.py).

Every time is the database's (``clock_timestamp()``), so the processes' clocks never have to
agree. Rows are locked in municipality order everywhere (renewal, fence), so a renewal and a
batch's fence of the same process cannot deadlock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Result, bindparam, select, text

from cityops.store.tables_cluster import ingest_partitions


@dataclass(frozen=True, slots=True)
class PartitionRow:
    municipality: str
    owner: str | None
    epoch: int
    lease_until: datetime | None


def heartbeat(conn: Connection, member: str, host: str, pid: int) -> None:
    """Say ``member`` is alive now (first call: it joined)."""
    conn.execute(
        text(
            "INSERT INTO ingest_members (member_id, host, pid, started_at, heartbeat_at) "
            "VALUES (:m, :h, :p, clock_timestamp(), clock_timestamp()) "
            "ON CONFLICT (member_id) DO UPDATE SET heartbeat_at = clock_timestamp()"
        ),
        {"m": member, "h": host[:255], "p": pid},
    )


def forget_silent(conn: Connection, lease_s: float) -> list[str]:
    """Remove members silent longer than a lease; their ids."""
    rows = conn.execute(
        text(
            "DELETE FROM ingest_members "
            "WHERE heartbeat_at < clock_timestamp() - make_interval(secs => :s) "
            "RETURNING member_id"
        ),
        {"s": lease_s},
    )
    return sorted(r.member_id for r in rows)


def live_members(conn: Connection, lease_s: float) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT member_id FROM ingest_members "
            "WHERE heartbeat_at >= clock_timestamp() - make_interval(secs => :s) "
            "ORDER BY member_id"
        ),
        {"s": lease_s},
    )
    return [r.member_id for r in rows]


def leave(conn: Connection, member: str) -> None:
    conn.execute(text("DELETE FROM ingest_members WHERE member_id = :m"), {"m": member})


def ensure_partitions(conn: Connection, municipalities: Iterable[str]) -> None:
    """A row (no owner, epoch 0) for each configured municipality that has none. Run it in a
    transaction of its own: an insert that meets a row another member is renewing waits for
    that member, which must not be waiting for us."""
    names = set(municipalities)
    if not names:
        return
    t = ingest_partitions
    have = set(conn.execute(select(t.c.municipality)).scalars())
    missing = sorted(names - have)
    if missing:
        conn.execute(
            text(
                "INSERT INTO ingest_partitions (municipality, owner, epoch, lease_until) "
                "VALUES (:m, NULL, 0, NULL) ON CONFLICT (municipality) DO NOTHING"
            ),
            [{"m": m} for m in missing],
        )


def renew(conn: Connection, member: str, held: Mapping[str, int], lease_s: float) -> set[str]:
    """Extend the leases ``member`` still holds with the epochs it claimed; the
    municipalities renewed (a missing one was claimed by another member meanwhile)."""
    if not held:
        return set()
    rows = conn.execute(
        text(
            "UPDATE ingest_partitions p "
            "SET lease_until = clock_timestamp() + make_interval(secs => :s) "
            "FROM (SELECT municipality FROM ingest_partitions WHERE owner = :o "
            "      ORDER BY municipality FOR UPDATE) AS mine "
            "WHERE p.municipality = mine.municipality RETURNING p.municipality, p.epoch"
        ),
        {"s": lease_s, "o": member},
    )
    return {r.municipality for r in rows if held.get(r.municipality) == r.epoch}


def _partitions_in(conn: Connection, columns: str, names: list[str], tail: str = "") -> Result[Any]:
    """``SELECT columns FROM ingest_partitions WHERE municipality IN names <tail>``."""
    query = f"SELECT {columns} FROM ingest_partitions WHERE municipality IN :ms {tail}"
    return conn.execute(text(query).bindparams(bindparam("ms", expanding=True)), {"ms": names})


def claimable(conn: Connection, municipalities: Iterable[str]) -> list[str]:
    """Of ``municipalities``, those without an owner or whose owner's lease ran out."""
    names = sorted(set(municipalities))
    if not names:
        return []
    free = "AND (owner IS NULL OR lease_until IS NULL OR lease_until < clock_timestamp())"
    rows = _partitions_in(conn, "municipality", names, f"{free} ORDER BY municipality")
    return [r.municipality for r in rows]


def claim(conn: Connection, member: str, municipality: str, lease_s: float) -> int | None:
    """Take ``municipality`` when it is free or its lease ran out: the new epoch, else None.
    A batch of the previous owner still in flight holds the row (its fence's FOR SHARE), so
    the claim waits for that batch's commit and the new owner reads its rule state after it."""
    row = conn.execute(
        text(
            "UPDATE ingest_partitions SET owner = :o, epoch = epoch + 1, session_error = NULL, "
            "lease_until = clock_timestamp() + make_interval(secs => :s) "
            "WHERE municipality = :m AND (owner IS NULL OR lease_until IS NULL "
            "OR lease_until < clock_timestamp()) RETURNING epoch"
        ),
        {"o": member, "m": municipality, "s": lease_s},
    ).first()
    return None if row is None else int(row.epoch)


def release(conn: Connection, member: str, municipality: str, epoch: int) -> bool:
    """Give ``municipality`` up (its batches drained and acknowledged): free for a claim."""
    row = conn.execute(
        text(
            "UPDATE ingest_partitions SET owner = NULL, lease_until = NULL, session_error = NULL "
            "WHERE municipality = :m AND owner = :o AND epoch = :e RETURNING municipality"
        ),
        {"m": municipality, "o": member, "e": epoch},
    ).first()
    return row is not None


def fence_violations(
    conn: Connection, member: str, held: Mapping[str, int], municipalities: Iterable[str]
) -> list[str]:
    """Inside a batch's transaction: which of ``municipalities`` ``member`` may not write for
    (another owner, another epoch, or a lease run out). The rows stay share-locked until the
    batch commits, so a concurrent claim waits for it."""
    names = sorted(set(municipalities))
    if not names:
        return []
    columns = "municipality, owner, epoch, lease_until > clock_timestamp() AS valid"
    rows = _partitions_in(conn, columns, names, "ORDER BY municipality FOR SHARE")
    ok = {
        r.municipality
        for r in rows
        if r.owner == member and r.valid and held.get(r.municipality) == r.epoch
    }
    return [m for m in names if m not in ok]


def unowned(conn: Connection, municipalities: Iterable[str]) -> list[str]:
    """Of ``municipalities``, those no member holds with a running lease (no row yet, no owner,
    or the lease ran out)."""
    names = sorted(set(municipalities))
    if not names:
        return []
    live = "AND owner IS NOT NULL AND lease_until >= clock_timestamp()"
    rows = _partitions_in(conn, "municipality", names, live)
    held = {r.municipality for r in rows}
    return [m for m in names if m not in held]


def partitions(conn: Connection) -> list[PartitionRow]:
    t = ingest_partitions
    rows = conn.execute(t.select().order_by(t.c.municipality))
    return [PartitionRow(r.municipality, r.owner, int(r.epoch), r.lease_until) for r in rows]


def lock_never_claimed(conn: Connection, municipalities: Iterable[str]) -> list[str]:
    """Of ``municipalities``, those never claimed (epoch 0), their rows locked ``FOR UPDATE``
    until the transaction ends (a claim waits; no lock on SQLite, where no member runs)."""
    names = sorted(set(municipalities))
    if not names:
        return []
    t = ingest_partitions
    query = (
        select(t.c.municipality)
        .where(t.c.municipality.in_(names), t.c.epoch == 0)
        .order_by(t.c.municipality)
        .with_for_update()
    )
    return list(conn.execute(query).scalars())


def report_session_errors(conn: Connection, member: str, errors: Mapping[str, str | None]) -> None:
    """Record, for partitions ``member`` owns (rows it has just renewed, so locked in order
    already), why the broker refused their session's login, or None once it succeeds."""
    rows = [{"m": m, "o": member, "e": None if e is None else e[:200]} for m, e in errors.items()]
    if rows:
        conn.execute(
            text(
                "UPDATE ingest_partitions SET session_error = :e WHERE municipality = :m "
                "AND owner = :o AND session_error IS DISTINCT FROM :e"
            ),
            rows,
        )


def session_errors(conn: Connection, municipalities: Iterable[str]) -> dict[str, str]:
    """Of ``municipalities``, partition -> its owner's refused login, while the lease runs."""
    names = sorted(set(municipalities))
    if not names:
        return {}
    tail = "AND session_error IS NOT NULL AND lease_until >= clock_timestamp() "
    tail += "ORDER BY municipality"
    rows = _partitions_in(conn, "municipality, session_error", names, tail)
    return {r.municipality: r.session_error for r in rows}
