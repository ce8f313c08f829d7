"""The audit log's rows: appending under the chain head's lock, reading, anchors, pruning."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, func, select, text, update

from cityops.domain.audit import GENESIS_HASH, Anchor, AuditRecord, ChainBase, sealed
from cityops.store.sql import insert_ignore
from cityops.store.tables_audit import audit_anchors, audit_heads, audit_log


@dataclass(frozen=True, slots=True)
class Head:
    chain: str
    seq: int
    hash: str
    base: ChainBase


@dataclass(frozen=True, slots=True)
class AuditFilter:
    municipality: str
    actions: Sequence[str] = ()
    actor: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 200


def _head(row: RowMapping) -> Head:
    return Head(row["chain"], row["seq"], row["hash"], ChainBase(row["base_seq"], row["base_hash"]))


def lock_head(conn: Connection, chain: str) -> Head:
    """The chain's head, locked until the transaction ends: concurrent writers of one chain wait
    here in turn. On SQLite the INSERT already takes the database's write lock; on PostgreSQL
    ``FOR UPDATE`` locks the head row (the INSERT ... DO NOTHING waits for a concurrent first
    writer of a new chain)."""
    insert_ignore(
        conn,
        audit_heads,
        [
            {
                "chain": chain,
                "seq": 0,
                "hash": GENESIS_HASH,
                "base_seq": 0,
                "base_hash": GENESIS_HASH,
            }
        ],
    )
    row = (
        conn.execute(select(audit_heads).where(audit_heads.c.chain == chain).with_for_update())
        .mappings()
        .one()
    )
    return _head(row)


def append(conn: Connection, chain: str, build: Callable[[int, str], AuditRecord]) -> AuditRecord:
    """Write the next record of ``chain``: ``build(seq, prev_hash)`` makes it, this seals it."""
    head = lock_head(conn, chain)
    record = sealed(build(head.seq + 1, head.hash))
    conn.execute(
        audit_log.insert().values(
            chain=record.chain,
            seq=record.seq,
            at=record.at,
            actor=record.actor,
            action=record.action,
            municipality=record.municipality,
            target=record.target,
            reason=record.reason,
            detail=dict(record.detail),
            prev_hash=record.prev_hash,
            hash=record.hash,
        )
    )
    conn.execute(
        update(audit_heads)
        .where(audit_heads.c.chain == chain)
        .values(seq=record.seq, hash=record.hash)
    )
    return record


def _record(row: RowMapping) -> AuditRecord:
    return AuditRecord(
        chain=row["chain"],
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        municipality=row["municipality"],
        target=row["target"],
        reason=row["reason"],
        detail=row["detail"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def chain_records(conn: Connection, chain: str) -> Iterator[AuditRecord]:
    """The stored records of ``chain`` in sequence order, streamed."""
    result = conn.execution_options(yield_per=2000).execute(
        select(audit_log).where(audit_log.c.chain == chain).order_by(audit_log.c.seq)
    )
    for row in result.mappings():
        yield _record(row)


def chains(conn: Connection) -> list[str]:
    """Every chain that has a head, a record or an anchor."""
    heads = conn.execute(select(audit_heads.c.chain)).scalars().all()
    logged = conn.execute(select(audit_log.c.chain).distinct()).scalars().all()
    anchored = conn.execute(select(audit_anchors.c.chain).distinct()).scalars().all()
    return sorted(set(heads) | set(logged) | set(anchored))


def head(conn: Connection, chain: str) -> Head | None:
    row = conn.execute(select(audit_heads).where(audit_heads.c.chain == chain)).mappings().first()
    return _head(row) if row is not None else None


def add_anchor(conn: Connection, chain: str, at: datetime, source: str) -> Anchor | None:
    """Witness the chain's committed head (None for a chain with no record yet)."""
    current = head(conn, chain)
    if current is None or current.seq == 0:
        return None
    conn.execute(
        audit_anchors.insert().values(
            chain=chain, seq=current.seq, hash=current.hash, at=at, source=source
        )
    )
    return Anchor(chain, current.seq, current.hash, at)


def anchors(conn: Connection, chain: str | None = None) -> list[Anchor]:
    query = select(audit_anchors).order_by(audit_anchors.c.chain, audit_anchors.c.seq)
    if chain is not None:
        query = query.where(audit_anchors.c.chain == chain)
    return [
        Anchor(r["chain"], r["seq"], r["hash"], r["at"]) for r in conn.execute(query).mappings()
    ]


def search(conn: Connection, f: AuditFilter) -> list[AuditRecord]:
    """A municipality's records, newest first, filtered for the auditor."""
    c = audit_log.c
    query = select(audit_log).where(c.chain == f.municipality)
    if f.actions:
        query = query.where(c.action.in_(list(f.actions)))
    if f.actor is not None:
        query = query.where(c.actor == f.actor)
    if f.target is not None:
        query = query.where(c.target == f.target)
    if f.since is not None:
        query = query.where(c.at >= f.since)
    if f.until is not None:
        query = query.where(c.at < f.until)
    if f.before_seq is not None:
        query = query.where(c.seq < f.before_seq)
    query = query.order_by(c.seq.desc()).limit(f.limit)
    return [_record(r) for r in conn.execute(query).mappings()]


def prunable_until(conn: Connection, chain: str, before: datetime) -> int | None:
    """The last seq of the chain's oldest run of records all written before ``before``."""
    c = audit_log.c
    current = lock_head(conn, chain)
    first_young = conn.execute(
        select(func.min(c.seq)).where(c.chain == chain, c.at >= before)
    ).scalar_one_or_none()
    last = current.seq if first_young is None else first_young - 1
    return last if last > current.base.seq else None


def prune_through(conn: Connection, chain: str, seq: int) -> int:
    """Remove the chain's records up to ``seq`` (retention's one path past the PostgreSQL
    guard, docs/SECURITY.md "Audit"); the chain's base becomes that record, so verification
    starts after it. Returns the number of records removed."""
    c = audit_log.c
    last_hash = conn.execute(select(c.hash).where(c.chain == chain, c.seq == seq)).scalar_one()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL cityops.audit_retention = 'on'"))
    removed = conn.execute(delete(audit_log).where(c.chain == chain, c.seq <= seq)).rowcount
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL cityops.audit_retention = 'off'"))
    conn.execute(
        update(audit_heads)
        .where(audit_heads.c.chain == chain)
        .values(base_seq=seq, base_hash=last_hash)
    )
    return int(removed or 0)
