"""The cameras offered for a person's place: those that see it first (nearest first), then the
nearest others within the radius; never more than the limit, never a camera twice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cityops.domain.entities import LonLat
from cityops.domain.geo import projection_for
from cityops.domain.persons import NEAREST_RADIUS_M, nearest_cameras
from cityops.domain.visibility import cameras_seeing
from tests.town import town_config

TOWN = town_config()
PROJECTION = projection_for(LonLat(25.3925, 42.6194))
PLACES = st.builds(LonLat, st.floats(25.385, 25.400), st.floats(42.615, 42.624))


@given(PLACES, st.integers(1, 6))
def test_seeing_cameras_come_first_then_the_nearest_within_the_radius(
    place: LonLat, limit: int
) -> None:
    rows = nearest_cameras(place, TOWN.cameras, PROJECTION, limit=limit)
    ids = [str(r["camera_id"]) for r in rows]
    assert len(ids) == len(set(ids)) <= limit
    seeing = [v.camera_id for v in cameras_seeing(place, TOWN.cameras, PROJECTION)]
    sees = [r["sees"] for r in rows]
    assert sees == sorted(sees, reverse=True)  # all seeing ones before the others
    assert [i for i, s in zip(ids, sees, strict=True) if s] == seeing[:limit]
    others = [float(r["distance_m"]) for r in rows if not r["sees"]]
    assert others == sorted(others)
    assert all(d <= NEAREST_RADIUS_M for d in others)
    if len(ids) < limit:  # nothing else within the radius was left out
        left = {c.id for c in TOWN.cameras} - set(ids)
        for cam in TOWN.cameras:
            if cam.id in left:
                assert PROJECTION.distance_m(place, cam.position) > NEAREST_RADIUS_M - 0.1


def test_the_crossing_is_seen_by_its_two_cameras() -> None:
    rows = nearest_cameras(LonLat(25.3925, 42.6194), TOWN.cameras, PROJECTION)
    assert {str(r["camera_id"]) for r in rows if r["sees"]} == {"cam-a", "cam-b"}
    assert [r["camera_id"] for r in rows if not r["sees"]] == ["cam-school"]  # near, turned away
