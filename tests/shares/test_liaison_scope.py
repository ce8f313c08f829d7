"""A liaison's scope on SQLite and PostgreSQL: the cameras of the active shares with its agency,
in its own municipality, join those of its agency's incidents, for the camera routes and the
live feed alike (LiveScope), and leave again when the share expires or is revoked."""

from __future__ import annotations

from datetime import timedelta

from cityops.domain.access import Membership, Principal, Role
from cityops.domain.entities import CameraHealth, LonLat
from cityops.services import shares
from cityops.services.access_scope import LiveScope, visible_cameras
from cityops.services.live import CameraPayload, LiveKind, LiveMessage
from cityops.services.runtime import MunicipalityRuntime
from tests.shares.test_shares_service import police_share
from tests.town import MUNI, T0, town_config, town_db

SCHOOL = LonLat(25.3950, 42.6210)


def liaison(agency: str, municipality: str = MUNI) -> Principal:
    membership = Membership(municipality, Role.LIAISON, agency, T0 + timedelta(days=1), False)
    return Principal(1, "liaison", "Liaison", {municipality: membership}, False, "token")


def camera_message(camera_id: str) -> LiveMessage:
    payload = CameraPayload(id=camera_id, health=CameraHealth.ONLINE)
    return LiveMessage(MUNI, LiveKind.CAMERA, payload)


def test_a_liaison_sees_the_cameras_shared_with_its_agency_while_active(db_url: str) -> None:
    db, rt = town_db(db_url), MunicipalityRuntime.build(town_config())
    police, traffic = liaison("police"), liaison("traffic-police")
    with db.begin() as conn:
        made = police_share(conn, rt, 30, public_url="", place=SCHOOL).share
    with db.connect() as conn:
        assert visible_cameras(conn, police, MUNI, T0) == {"cam-school"}
        assert visible_cameras(conn, traffic, MUNI, T0) == set()
        assert visible_cameras(conn, liaison("police", "nexttown"), "nexttown", T0) == set()
        scope = LiveScope.of(conn, police, MUNI, T0 + timedelta(minutes=1))
        assert scope.admits(camera_message("cam-school"))
        assert not scope.admits(camera_message("cam-a"))
        later = T0 + timedelta(minutes=30)
        assert visible_cameras(conn, police, MUNI, later) == set()  # expired
        assert not LiveScope.of(conn, police, MUNI, later).admits(camera_message("cam-school"))
    with db.begin() as conn:
        shares.revoke(conn, MUNI, made.id, actor="x", now=T0 + timedelta(minutes=5), reason=None)
    with db.connect() as conn:
        assert visible_cameras(conn, police, MUNI, T0 + timedelta(minutes=6)) == set()
