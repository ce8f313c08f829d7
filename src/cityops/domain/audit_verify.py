"""Verifying a stored audit chain: every way it differs from what was written, by record.

What is found, with the sequence number where it shows:

- ``altered``: a record's content no longer hashes to its stored hash;
- ``moved``: a record hashes correctly only under another sequence number (renumbered:
  reordered, or shifted to make room for an insertion);
- ``inserted``: a record that is not part of the chain (nothing links to it while its neighbours
  link around it, or it lies beyond the chain's head row);
- ``deleted``: sequence numbers missing;
- ``link``: a record's previous hash matches no record (its predecessor was replaced);
- ``truncated``: the chain ends before its head row or an anchor says it reached;
- ``anchor``: an anchored record's hash differs from the anchor's;
- ``head``: the chain's head row is gone while records remain.

Without a secret, someone able to rewrite the database can recompute every hash after the last
anchor: anchors exported outside the database bound what can be rewritten unseen."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from cityops.domain.audit import (
    Anchor,
    AuditRecord,
    ChainBase,
    ChainReport,
    Problem,
    ProblemKind,
    record_hash,
    utc_text,
)


def _short(digest: str) -> str:
    return digest[:16]


def _original_seqs(records: Sequence[AuditRecord], base: ChainBase) -> dict[int, int]:
    """Index -> the sequence number each record was written under, where it can be told: its
    own if it hashes correctly, else one more than its predecessor's (found by its previous hash)
    if it hashes correctly under that number."""
    successors: dict[str, list[int]] = {}
    for i, rec in enumerate(records):
        successors.setdefault(rec.prev_hash, []).append(i)
    original: dict[int, int] = {}
    queue: deque[tuple[str, int]] = deque([(base.hash, base.seq)])
    for i, rec in enumerate(records):
        if record_hash(rec) == rec.hash:
            original[i] = rec.seq
            queue.append((rec.hash, rec.seq))
    while queue:
        digest, seq = queue.popleft()
        for i in successors.get(digest, []):
            rec = records[i]
            if i not in original and record_hash(replace(rec, seq=seq + 1)) == rec.hash:
                original[i] = seq + 1
                queue.append((rec.hash, seq + 1))
    return original


def verify_chain(
    chain: str,
    records: Sequence[AuditRecord],
    *,
    base: ChainBase,
    head_seq: int | None,
    anchors: Iterable[Anchor] = (),
) -> ChainReport:
    """``records``: the stored ones in sequence order; ``base``: where the chain starts (after
    what retention removed); ``head_seq``: what the head row says was written last;
    ``anchors``: heads witnessed earlier (in the database, or read from an exported file)."""
    problems: list[Problem] = []

    def add(seq: int, kind: ProblemKind, expected: str, found: str) -> None:
        problems.append(Problem(chain, seq, kind, expected, found))

    original = _original_seqs(records, base)
    pointed_to = {rec.prev_hash for rec in records}
    sharing: dict[str, int] = {}
    for rec in records:
        sharing[rec.prev_hash] = sharing.get(rec.prev_hash, 0) + 1
    reported: set[int] = set()
    prev_hash, expected_seq = base.hash, base.seq + 1
    for i, rec in enumerate(records):
        gap = rec.seq > expected_seq
        if gap:
            missing = str(expected_seq)
            if rec.seq > expected_seq + 1:
                missing = f"{expected_seq}..{rec.seq - 1}"
            add(expected_seq, "deleted", f"seq {missing}", f"next record is seq {rec.seq}")
        was = original.get(i)
        last = i == len(records) - 1
        if was is None:
            computed = record_hash(rec)
            add(
                rec.seq,
                "altered",
                f"hash {_short(rec.hash)}",
                f"content hashing to {_short(computed)}",
            )
            reported.add(i)
        elif was != rec.seq:
            add(rec.seq, "moved", f"written as seq {was}", f"at seq {rec.seq}")
            reported.add(i)
        elif rec.hash not in pointed_to and sharing[rec.prev_hash] > 1 and not last:
            add(rec.seq, "inserted", "a record nothing links to", f"seq {rec.seq} beside the chain")
            reported.add(i)
        elif rec.prev_hash != prev_hash and not gap and (i - 1) not in reported:
            nxt = records[i + 1] if not last else None
            if nxt is not None and nxt.prev_hash == prev_hash:
                add(
                    rec.seq,
                    "inserted",
                    f"seq {nxt.seq} to follow seq {rec.seq - 1}",
                    f"seq {rec.seq} between them",
                )
                reported.add(i)
            else:
                add(rec.seq, "link", f"previous hash {_short(prev_hash)}", _short(rec.prev_hash))
        prev_hash, expected_seq = rec.hash, rec.seq + 1

    _check_ends(records, base, head_seq, anchors, add)
    return ChainReport(
        chain=chain,
        records=len(records),
        first_seq=records[0].seq if records else None,
        last_seq=records[-1].seq if records else None,
        problems=tuple(sorted(problems, key=lambda p: p.seq)),
    )


def _check_ends(
    records: Sequence[AuditRecord],
    base: ChainBase,
    head_seq: int | None,
    anchors: Iterable[Anchor],
    add: Callable[[int, ProblemKind, str, str], None],
) -> None:
    """The chain's length against its head row and its anchors."""
    last_seq = records[-1].seq if records else base.seq
    if head_seq is None and records:
        add(last_seq, "head", "the chain's head row", "none (deleted)")
    if head_seq is not None and head_seq > last_seq:
        add(
            last_seq + 1,
            "truncated",
            f"records up to seq {head_seq} (chain head)",
            f"last record seq {last_seq}",
        )
    if head_seq is not None:
        for rec in records:
            if rec.seq > head_seq:
                add(
                    rec.seq,
                    "inserted",
                    f"no record after seq {head_seq} (chain head)",
                    f"seq {rec.seq}",
                )
    by_seq = {r.seq: r for r in records}
    beyond: Anchor | None = None
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq == base.seq and anchor.hash != base.hash:
            add(
                anchor.seq,
                "anchor",
                f"hash {_short(anchor.hash)} (anchor)",
                f"base {_short(base.hash)}",
            )
        if anchor.seq <= base.seq:
            continue  # at or before what retention removed
        found = by_seq.get(anchor.seq)
        if found is None and anchor.seq > last_seq:
            beyond = anchor
        elif found is not None and found.hash != anchor.hash:
            when = utc_text(anchor.at)
            add(
                anchor.seq,
                "anchor",
                f"hash {_short(anchor.hash)} (anchor of {when})",
                _short(found.hash),
            )
    if beyond is not None and (head_seq is None or head_seq <= last_seq):
        when = utc_text(beyond.at)
        add(
            last_seq + 1,
            "truncated",
            f"records up to seq {beyond.seq} (anchor of {when})",
            f"last record seq {last_seq}",
        )


def intact(
    records: Iterable[AuditRecord],
    *,
    base: ChainBase,
    head_seq: int | None,
    anchors: Iterable[Anchor] = (),
) -> tuple[bool, int, int | None, int | None]:
    """The common case in one streaming pass, without holding the chain in memory: does every
    record hash correctly, follow its predecessor by seq and hash, end at the head, and agree
    with every anchor? Returns (intact, count, first seq, last seq); only a chain that is not
    intact needs :func:`verify_chain` (which holds it all) to say what happened."""
    anchored: dict[int, set[str]] = {}
    for a in anchors:
        anchored.setdefault(a.seq, set()).add(a.hash)
    ok = all(h == {base.hash} for seq, h in anchored.items() if seq == base.seq)
    prev_hash, expected_seq = base.hash, base.seq + 1
    count, first = 0, None
    for rec in records:
        count += 1
        first = rec.seq if first is None else first
        if rec.seq != expected_seq or rec.prev_hash != prev_hash or record_hash(rec) != rec.hash:
            ok = False
        if rec.seq in anchored and anchored[rec.seq] != {rec.hash}:
            ok = False
        prev_hash, expected_seq = rec.hash, rec.seq + 1
    last = expected_seq - 1 if count else None
    end = expected_seq - 1
    if (head_seq is None and count) or (head_seq is not None and head_seq != end):
        ok = False
    if any(seq > end for seq in anchored):
        ok = False
    return ok, count, first, last
