"""The canonical form: stable whatever the detail holds, identical after a database round trip,
and exported anchor files decoded without surprises (property-based)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.domain.audit import (
    AuditRecord,
    canonical_form,
    normalise_detail,
    record_hash,
    sealed,
    utc_text,
)
from cityops.services import audit
from cityops.services.audit import AuditAction, load_anchors
from cityops.store import audit_repo
from tests.audit.support import MUNI, migrated

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(st.dictionaries(st.text(), json_values, max_size=6), st.text(), st.text())
def test_normalised_detail_is_a_fixed_point_and_hashes_alike(
    detail: dict[str, object], actor: str, target: str
) -> None:
    once = normalise_detail(detail)
    assert normalise_detail(once) == once
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    rec = AuditRecord(MUNI, 1, at, actor, "export", MUNI, target, None, once, "0" * 64)
    again = AuditRecord(MUNI, 1, at, actor, "export", MUNI, target, None, dict(once), "0" * 64)
    assert canonical_form(rec) == canonical_form(again)
    assert record_hash(sealed(rec)) == sealed(again).hash


def test_utc_text_always_has_microseconds_and_z() -> None:
    from datetime import timedelta, timezone

    sofia = timezone(timedelta(hours=2))
    assert utc_text(datetime(2026, 12, 3, 12, 0, tzinfo=sofia)) == "2026-12-03T10:00:00.000000Z"
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 12, 3, 12, 0))


def test_non_json_detail_is_refused() -> None:
    with pytest.raises(TypeError):
        normalise_detail({"path": Path("/x")})
    with pytest.raises(ValueError, match="non-finite"):
        normalise_detail({"x": float("nan")})


TRICKY: dict[str, object] = {
    "cyrillic": "Казанлък — камера",
    "emoji": "\U0001f4f7",
    "nul": "a\x00b",
    "big": 2**70,
    "neg": -(2**63),
    "tenth": 0.1,
    "huge": 1.7976931348623157e308,
    "tiny": 5e-324,
    "negzero": -0.0,
    "nested": {"z": [1, {"y": None}], "a": True},
    "when": datetime(2026, 12, 3, 10, 0, 0, 1, tzinfo=UTC),
    "escapes": 'quote" backslash\\ tab\t newline\n \u2028',
}


def test_tricky_details_hash_the_same_after_the_database(db_url: str) -> None:
    db = migrated(db_url)
    with db.begin() as conn:
        written = audit.record(
            conn,
            actor="Иван \x00",
            action=AuditAction.EXPORT,
            municipality=MUNI,
            target="t\u00e9",
            reason="r",
            detail=TRICKY,
            at=datetime(2026, 12, 3, 10, 0, 0, 999999, tzinfo=UTC),
        )
    with db.connect() as conn:
        (read,) = list(audit_repo.chain_records(conn, MUNI))
    assert read == written
    assert record_hash(read) == read.hash
    db.dispose()


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150, deadline=None
)
@given(st.lists(st.text(), max_size=5) | st.lists(st.from_type(type(None)).map(str)))
def test_an_anchor_file_decodes_or_says_which_line(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "anchors.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    refusal = ""
    try:
        found = load_anchors(path)
    except ValueError as exc:
        refusal = str(exc)
    if refusal:
        assert str(path) in refusal
    else:
        assert all(a.at.tzinfo is not None for a in found)


@settings(deadline=None)  # a loaded machine must not fail a correct example
@given(
    st.fixed_dictionaries(
        {"chain": json_values, "seq": json_values, "hash": json_values, "at": json_values}
    )
)
def test_anchor_lines_with_wrong_types_are_refused_cleanly(data: dict[str, object]) -> None:
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jsonl"
        path.write_text(json.dumps(data) + "\n", encoding="utf-8")
        refusal, found = "", []
        try:
            found = load_anchors(path)
        except ValueError as exc:
            refusal = str(exc)
    if refusal:
        assert ":1: not an anchor line" in refusal
    else:
        (anchor,) = found
        assert isinstance(anchor.chain, str)
        assert isinstance(anchor.seq, int)
        assert len(anchor.hash) == 64


def test_exported_anchor_lines_read_back(db_url: str, tmp_path: Path) -> None:
    db = migrated(db_url)
    with db.begin() as conn:
        audit.record(conn, actor="a", action=AuditAction.LOGIN, municipality=MUNI)
        made = audit.anchor(conn, source="test")
        audit.export_anchors(conn, tmp_path / "x.jsonl")
    assert load_anchors(tmp_path / "x.jsonl") == made
    db.dispose()
