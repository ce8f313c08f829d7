"""Hostile CAP input: xee.cap's attack refused without reading any local file, and no input of
any shape makes the checker raise (Hypothesis)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.cap.check import check
from tests.cap.support import alert_xml

_opened: list[str] = []
_watch: set[str] = set()


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and args and str(args[0]) in _watch:
        _opened.append(str(args[0]))


sys.addaudithook(_hook)  # audit hooks cannot be removed; this one only looks at _watch


def test_xee_is_refused_without_reading_the_file_it_points_at(
    shared_data: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-7f3a9c")
    attack = (shared_data / "cap" / "xee.cap").read_bytes()
    attack = attack.replace(b"http://localhost:8080/payload3", secret.as_uri().encode())
    attack = attack.replace(b"file:///etc/passwd", secret.as_uri().encode())
    assert secret.as_uri().encode() in attack
    _watch.add(str(secret))
    try:
        verdict = check(attack)
    finally:
        _watch.discard(str(secret))
    assert not verdict.valid
    assert verdict.reasons[0].startswith("refused:")
    assert verdict.alert is None
    assert verdict.signature is None
    assert "CANARY" not in verdict.summary()
    assert _opened == []


def test_an_internal_entity_is_refused_too() -> None:
    bomb = alert_xml().replace(
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa">]>',
    )
    verdict = check(bomb)
    assert not verdict.valid
    assert "refused" in verdict.reasons[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_get_a_verdict(data: bytes) -> None:
    verdict = check(data)
    assert verdict.valid is False or verdict.alert is not None


_VALID = alert_xml().decode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=len(_VALID) - 1),
    st.integers(min_value=0, max_value=40),
    st.text(alphabet=st.sampled_from("<>&;\"' =,.-:/0123456789abcdefxyzA!\n"), max_size=30),
)
def test_a_mutated_alert_gets_a_verdict(start: int, cut: int, insert: str) -> None:
    text = _VALID[:start] + insert + _VALID[start + cut :]
    verdict = check(text.encode())
    if verdict.valid:
        assert verdict.alert is not None
        assert verdict.reasons == ()
    else:
        assert verdict.alert is None
        assert verdict.reasons


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_infinity=True)),
        max_size=6,
    )
)
def test_any_polygon_is_judged(points: list[tuple[float, float]]) -> None:
    polygon = " ".join(f"{a},{b}" for a, b in points) or "x"
    verdict = check(alert_xml(polygon=polygon))
    if verdict.valid:
        assert verdict.alert is not None
        (poly,) = verdict.alert.infos[0].areas[0].polygons
        assert len(poly) >= 4
        assert poly[0] == poly[-1]
        assert all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in poly)
