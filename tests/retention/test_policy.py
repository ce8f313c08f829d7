"""The retention policy's cut-offs and the hourly aggregation (property-based)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.retention import DataKind, RetentionPolicy, hour_floor, hourly

NOW = datetime(2026, 12, 3, 10, 17, 23, 5, tzinfo=UTC)

readings = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.datetimes(
            min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 3), timezones=st.just(UTC)
        ),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    max_size=200,
)


@settings(deadline=None)
@given(readings)
def test_hourly_aggregates_equal_what_the_readings_gave(
    rows: list[tuple[str, datetime, float]],
) -> None:
    got = hourly(rows)
    assert sum(a.count for a in got) == len(rows)
    assert len({(a.sensor_id, a.hour) for a in got}) == len(got)
    for a in got:
        values = [v for s, ts, v in rows if s == a.sensor_id and hour_floor(ts) == a.hour]
        assert a.count == len(values)
        assert (a.min, a.max) == (min(values), max(values))
        assert a.mean == pytest.approx(sum(values) / len(values), rel=1e-9, abs=1e-6)
        assert a.hour.minute == a.hour.second == a.hour.microsecond == 0


def test_cutoffs_per_kind() -> None:
    policy = RetentionPolicy(evidence_days=None, readings_days=2, readings_hourly_days=0)
    cut = policy.cutoffs(NOW, evidence_default=30)
    assert cut[DataKind.EVIDENCE] == NOW - timedelta(days=30)
    assert cut[DataKind.READINGS] == datetime(2026, 12, 1, 10, tzinfo=UTC)  # whole hours
    assert cut[DataKind.READINGS_HOURLY] is None  # 0: for ever
    assert cut[DataKind.EVENTS] == NOW - timedelta(days=365)
    assert cut[DataKind.AUDIT] == NOW - timedelta(days=5 * 365.25)
    assert RetentionPolicy(evidence_days=0).cutoffs(NOW, 30)[DataKind.EVIDENCE] is None


def test_the_yaml_retention_block_becomes_the_policy() -> None:
    from cityops.config.loader import load_config_text
    from tests.town import TOWN_YAML

    base = TOWN_YAML.read_text(encoding="utf-8")
    assert load_config_text(base, "town.yaml").retention is None
    text = base + "retention:\n  evidence_days: 7\n  readings_days: 0.5\n  audit_years: 10\n"
    policy = load_config_text(text, "town.yaml").retention
    assert policy == RetentionPolicy(evidence_days=7, readings_days=0.5, audit_years=10)


@pytest.mark.parametrize(
    "block", ["  readings_days: -1\n", "  audit_years: 1000\n", "  evidence_dayz: 3\n"]
)
def test_a_bad_retention_block_is_refused_with_its_place(block: str) -> None:
    from cityops.config.errors import ConfigError
    from cityops.config.loader import load_config_text
    from tests.town import TOWN_YAML

    text = TOWN_YAML.read_text(encoding="utf-8") + "retention:\n" + block
    with pytest.raises(ConfigError, match="retention"):
        load_config_text(text, "town.yaml")
