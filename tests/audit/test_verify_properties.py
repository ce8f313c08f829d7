"""The verifier on chains built in memory (property-based): every tampering is found at the
right place, and the streaming check agrees with the full analysis on every chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.audit import GENESIS_HASH, Anchor, AuditRecord, ChainBase, sealed
from cityops.domain.audit_verify import intact, verify_chain

T = datetime(2026, 12, 3, tzinfo=UTC)
BASE = ChainBase()


def chain(n: int) -> list[AuditRecord]:
    out: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        rec = sealed(
            AuditRecord(
                "m",
                seq,
                T + timedelta(seconds=seq),
                f"u{seq % 3}",
                "video.live",
                "m",
                f"cam-{seq % 4}",
                None,
                {"seq": seq},
                prev,
            )
        )
        out.append(rec)
        prev = rec.hash
    return out


def check(
    records: list[AuditRecord], head: int | None, anchors: list[Anchor]
) -> set[tuple[int, str]]:
    report = verify_chain("m", records, base=BASE, head_seq=head, anchors=anchors)
    ok, count, _, _ = intact(records, base=BASE, head_seq=head, anchors=anchors)
    assert ok == report.ok
    assert count == len(records)
    return {(p.seq, p.kind) for p in report.problems}


sizes = st.integers(min_value=3, max_value=25)


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(sizes)
def test_an_untouched_chain_is_clean(n: int) -> None:
    recs = chain(n)
    assert check(recs, n, [Anchor("m", n, recs[-1].hash, T)]) == set()


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(sizes, st.data())
def test_an_altered_field_is_found_at_its_record(n: int, data: st.DataObject) -> None:
    recs = chain(n)
    i = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(["actor", "target", "reason", "action"]))
    changes: dict[str, Any] = {field: "tampered"}
    recs[i] = replace(recs[i], **changes)
    assert (i + 1, "altered") in check(recs, n, [])


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(sizes, st.data())
def test_a_deleted_record_is_found(n: int, data: st.DataObject) -> None:
    recs = chain(n)
    i = data.draw(st.integers(0, n - 2))  # not the last: that is truncation
    del recs[i]
    assert (i + 1, "deleted") in check(recs, n, [])


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(sizes, st.data())
def test_swapped_records_are_both_found_as_moved(n: int, data: st.DataObject) -> None:
    recs = chain(n)
    i, j = sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)))
    a, b = recs[i], recs[j]
    recs[i], recs[j] = replace(b, seq=a.seq), replace(a, seq=b.seq)
    found = check(recs, n, [])
    assert {(i + 1, "moved"), (j + 1, "moved")} <= found


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(sizes, st.data())
def test_a_forged_record_slipped_in_is_found(n: int, data: st.DataObject) -> None:
    recs = chain(n)
    i = data.draw(st.integers(1, n - 1))
    forged = sealed(replace(recs[i], actor="ghost", prev_hash=recs[i - 1].hash, hash=""))
    shifted = [replace(r, seq=r.seq + 1) for r in recs[i:]]
    found = check([*recs[:i], forged, *shifted], n, [])
    assert (i + 1, "inserted") in found


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(sizes, st.data())
def test_a_cut_tail_is_found_by_the_head_or_an_anchor(n: int, data: st.DataObject) -> None:
    recs = chain(n)
    keep = data.draw(st.integers(0, n - 1))
    anchor = Anchor("m", n, recs[-1].hash, T)
    # the head row rewritten to match: only the anchor can tell
    assert check(recs[:keep], keep, [anchor]) == {(keep + 1, "truncated")}
    assert (keep + 1, "truncated") in check(recs[:keep], n, [])
