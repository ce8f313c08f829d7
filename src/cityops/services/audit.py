"""Writing, anchoring and verifying the audit log (docs/SECURITY.md, "Audit").

``record`` is called inside the transaction of the change it records, so the change and its
record commit together or not at all; a view (a camera's live stream, a snapshot) opens its own
``db.begin()`` for it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection

from cityops.domain.audit import (
    ACTION_MAX,
    ACTOR_MAX,
    INSTALLATION_CHAIN,
    MUNICIPALITY_MAX,
    REASON_MAX,
    TARGET_MAX,
    Anchor,
    AuditAction,
    AuditRecord,
    ChainBase,
    ChainReport,
    clean_text,
    normalise_detail,
    utc_text,
)
from cityops.domain.audit_verify import intact, verify_chain
from cityops.store import audit_repo

__all__ = [
    "AuditAction",
    "anchor",
    "export_anchors",
    "load_anchors",
    "record",
    "verify",
]


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _now() -> datetime:
    return datetime.now(UTC)


def record(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    municipality: str | None,
    target: str | None = None,
    reason: str | None = None,
    detail: Mapping[str, object] | None = None,
    at: datetime | None = None,
) -> AuditRecord:
    """Append one record to the municipality's chain (the installation's without one)."""
    when = (at or _now()).astimezone(UTC)
    muni = clean_text(municipality, MUNICIPALITY_MAX) if municipality is not None else None
    chain = muni if muni is not None else INSTALLATION_CHAIN
    body = normalise_detail(detail)
    who = clean_text(actor, ACTOR_MAX)
    what = clean_text(str(action), ACTION_MAX)
    on = clean_text(target, TARGET_MAX) if target is not None else None
    why = clean_text(reason, REASON_MAX) if reason is not None else None

    def build(seq: int, prev_hash: str) -> AuditRecord:
        return AuditRecord(
            chain=chain,
            seq=seq,
            at=when,
            actor=who,
            action=what,
            municipality=muni,
            target=on,
            reason=why,
            detail=body,
            prev_hash=prev_hash,
        )

    return audit_repo.append(conn, chain, build)


def anchor(
    conn: Connection, *, source: str, at: datetime | None = None, chains: Sequence[str] = ()
) -> list[Anchor]:
    """Witness the head of every chain (or the given ones): seq, hash and time, stored."""
    when = at or _now()
    names = list(chains) or audit_repo.chains(conn)
    made = [audit_repo.add_anchor(conn, name, when, source) for name in names]
    return [a for a in made if a is not None]


def verify(
    conn: Connection, *, extra_anchors: Iterable[Anchor] = (), chains: Sequence[str] = ()
) -> list[ChainReport]:
    """Check every chain (or the given ones) against itself, its head and its anchors (those in
    the database and ``extra_anchors``, e.g. read from an exported file)."""
    outside: dict[str, list[Anchor]] = {}
    for a in extra_anchors:
        outside.setdefault(a.chain, []).append(a)
    names = sorted(set(chains) if chains else set(audit_repo.chains(conn)) | set(outside))
    reports: list[ChainReport] = []
    for name in names:
        current = audit_repo.head(conn, name)
        known = audit_repo.anchors(conn, name) + outside.get(name, [])
        base = current.base if current is not None else ChainBase()
        head_seq = current.seq if current is not None else None
        ok, count, first, last = intact(
            audit_repo.chain_records(conn, name), base=base, head_seq=head_seq, anchors=known
        )
        if ok:
            reports.append(ChainReport(name, count, first, last))
            continue
        records = list(audit_repo.chain_records(conn, name))
        reports.append(verify_chain(name, records, base=base, head_seq=head_seq, anchors=known))
    return reports


def anchor_line(a: Anchor) -> str:
    return json.dumps(
        {"chain": a.chain, "seq": a.seq, "hash": a.hash, "at": utc_text(a.at)}, sort_keys=True
    )


def export_anchors(conn: Connection, path: Path) -> int:
    """Append every stored anchor not yet in the file at ``path`` (JSON lines); the file is
    meant to live outside the database's reach (another host, write-once storage)."""
    have = {(a.chain, a.seq, a.hash) for a in load_anchors(path)} if path.exists() else set()
    new = [a for a in audit_repo.anchors(conn) if (a.chain, a.seq, a.hash) not in have]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for a in new:
            out.write(anchor_line(a) + "\n")
    return len(new)


def load_anchors(path: Path) -> list[Anchor]:
    """Anchors from an exported file; a malformed line is an error (the file is evidence)."""
    found: list[Anchor] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(_anchor_from_line(line))
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"{path}:{number}: not an anchor line: {exc}") from exc
    return found


def _anchor_from_line(line: str) -> Anchor:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    chain, seq, digest, at = (data.get(k) for k in ("chain", "seq", "hash", "at"))
    if not isinstance(chain, str) or not isinstance(at, str) or not isinstance(digest, str):
        raise ValueError("chain, hash and at must be strings")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError("seq must be a positive integer")
    if not _HEX64.fullmatch(digest):
        raise ValueError("hash must be 64 lowercase hex digits")
    when = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return Anchor(chain, seq, digest, when)
