"""Area matching (polygon, circle, geocode) and the book of alerts in force: updates and
cancellations follow references, expiry closes, alerts elsewhere change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from cityops.cap import book as book_module
from cityops.cap.area import Jurisdiction, area_touches, great_circle_km
from cityops.cap.book import AlertBook, Change
from cityops.cap.check import check
from cityops.cap.events import KIND, as_event
from cityops.cap.model import Alert, Area, Circle
from cityops.domain.entities import LonLat
from cityops.domain.observations import EventSource
from tests.cap.support import alert_xml

KAZANLAK = Jurisdiction(
    "kazanlak",
    (LonLat(25.35, 42.58), LonLat(25.45, 42.58), LonLat(25.45, 42.66), LonLat(25.35, 42.66)),
    {"EMMA_ID": frozenset({"BG004"})},
)
NOON = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
FAR = "43.20,27.90 43.25,27.90 43.25,27.95 43.20,27.95 43.20,27.90"  # Varna


def _area(
    polygons: tuple[tuple[tuple[float, float], ...], ...] = (),
    circles: tuple[Circle, ...] = (),
    geocodes: tuple[tuple[str, str], ...] = (),
) -> Area:
    return Area("test", polygons, circles, geocodes)


def _alert(**kwargs: Any) -> Alert:
    verdict = check(alert_xml(**kwargs))
    assert verdict.alert is not None, verdict.reasons
    return verdict.alert


def test_polygon_circle_and_geocode_touch_or_not() -> None:
    inside = ((42.60, 25.38), (42.64, 25.38), (42.64, 25.42), (42.60, 25.38))
    assert area_touches(_area(polygons=(inside,)), KAZANLAK)
    far = ((43.2, 27.9), (43.25, 27.9), (43.25, 27.95), (43.2, 27.9))
    assert not area_touches(_area(polygons=(far,)), KAZANLAK)
    # 42.70 N is ~4.4 km north of the boundary's top edge (42.66 N)
    assert not area_touches(_area(circles=(Circle((42.70, 25.40), 4.0),)), KAZANLAK)
    assert area_touches(_area(circles=(Circle((42.70, 25.40), 5.0),)), KAZANLAK)
    assert area_touches(_area(circles=(Circle((42.62, 25.40), 0.0),)), KAZANLAK)
    assert area_touches(_area(geocodes=(("EMMA_ID", "BG004"),)), KAZANLAK)
    assert not area_touches(_area(geocodes=(("EMMA_ID", "BG005"),)), KAZANLAK)
    assert not area_touches(_area(geocodes=(("SAME", "BG004"),)), KAZANLAK)


def test_an_update_replaces_and_a_cancel_closes_the_original() -> None:
    book = AlertBook(KAZANLAK)
    (opened,) = book.apply(_alert(), NOON)
    assert opened.change is Change.OPENED
    assert KAZANLAK.polygon.contains(
        Point(opened.warning.position.lon, opened.warning.position.lat)
    )
    ref = "ops@kazanlak.bg,kazanlak-2026-001,2026-12-03T12:00:00+02:00"
    (updated,) = book.apply(
        _alert(identifier="kazanlak-2026-002", msg_type="Update", references=ref), NOON
    )
    assert updated.change is Change.UPDATED
    assert updated.warning.replaces == (("ops@kazanlak.bg", "kazanlak-2026-001"),)
    assert set(book.active) == {("ops@kazanlak.bg", "kazanlak-2026-002")}
    ref2 = "ops@kazanlak.bg,kazanlak-2026-002,2026-12-03T12:00:00+02:00"
    (cancelled,) = book.apply(
        _alert(identifier="kazanlak-2026-003", msg_type="Cancel", references=ref2), NOON
    )
    assert cancelled.change is Change.CANCELLED
    assert cancelled.key == ("ops@kazanlak.bg", "kazanlak-2026-002")
    assert book.active == {}


def test_elsewhere_repeats_and_expiry() -> None:
    book = AlertBook(KAZANLAK)
    assert book.apply(_alert(identifier="far", polygon=FAR, circle=None, emma_id=None), NOON) == []
    assert book.apply(_alert(), NOON)[0].change is Change.OPENED
    assert book.apply(_alert(), NOON) == []  # the same message again
    assert book.expire(datetime(2026, 12, 3, 15, 59, tzinfo=UTC)) == []
    (gone,) = book.expire(datetime(2026, 12, 3, 16, 0, tzinfo=UTC))
    assert gone.change is Change.EXPIRED
    assert book.active == {}
    late = AlertBook(KAZANLAK)
    assert late.apply(_alert(), datetime(2026, 12, 4, tzinfo=UTC)) == []


def test_an_update_that_moves_away_leaves() -> None:
    book = AlertBook(KAZANLAK)
    book.apply(_alert(), NOON)
    ref = "ops@kazanlak.bg,kazanlak-2026-001,2026-12-03T12:00:00+02:00"
    (left,) = book.apply(
        _alert(
            identifier="k-2",
            msg_type="Update",
            references=ref,
            polygon=FAR,
            circle=None,
            emma_id=None,
        ),
        NOON,
    )
    assert left.change is Change.LEFT
    assert book.active == {}


def test_a_warning_enters_the_engine_as_an_outside_event() -> None:
    (opened,) = AlertBook(KAZANLAK).apply(_alert(), NOON)
    event = as_event(opened, "kazanlak")
    assert event is not None
    assert (event.kind, event.source) == (KIND, EventSource.EXTERNAL)
    assert event.attributes["severity"] == "Severe"
    assert event.attributes["cap_identifier"] == "kazanlak-2026-001"
    assert event.position == opened.warning.position


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=-89, max_value=89),
    st.floats(min_value=-179, max_value=179),
    st.floats(min_value=0, max_value=20000),
)
def test_a_circle_touches_exactly_when_it_reaches_the_boundary(
    lat: float, lon: float, radius_km: float
) -> None:
    corners = KAZANLAK.boundary
    nearest = min(great_circle_km(LonLat(lon, lat), p) for p in corners)
    touches = area_touches(_area(circles=(Circle((lat, lon), radius_km),)), KAZANLAK)
    if radius_km >= nearest + 0.01:  # reaches a corner
        assert touches
    if KAZANLAK.polygon.contains(Point(lon, lat)):
        assert touches


def test_the_book_forgets_the_oldest_messages_beyond_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book_module, "MAX_SEEN", 2)
    book = AlertBook(KAZANLAK)
    far = {"polygon": FAR, "circle": None, "emma_id": None}
    for name in ("x1", "x2", "x3"):
        assert book.apply(_alert(identifier=name, **far), NOON) == []
    assert book.apply(_alert(identifier="x3", **far), NOON) == []
    assert list(book._seen) == [("ops@kazanlak.bg", "x2"), ("ops@kazanlak.bg", "x3")]
