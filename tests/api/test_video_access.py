"""Who may look at a camera, and the audit of every look: snapshots and the live view need
video.view (a liaison: only its agency's incident cameras); an unmasked picture needs the
membership's video.unmasked and a reason, and is recorded every time with that reason; masked
views are recorded once per viewing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.store.tables_audit import audit_log
from tests.town import MUNI, account, api_client, start_center

SNAPSHOT = f"/api/v1/m/{MUNI}/cameras/cam-school/snapshot"
LIVE = f"/api/v1/m/{MUNI}/cameras/cam-school/live.mjpg"


@pytest.fixture
def center(tmp_path: Path, clip: Path) -> Iterator[ControlCenter]:
    """The test town with a made clip (white, a grey box) standing in for the cameras."""
    cc = start_center(tmp_path, with_mqtt=False, demo_video_dir=clip.parent)
    yield cc
    cc.stop()


def corner(jpeg: bytes) -> float:
    """Mean brightness inside cam-school's privacy mask (the top-left 30 % x 20 %)."""
    img = np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE))
    h, w = img.shape
    return float(img[int(0.02 * h) : int(0.18 * h), int(0.02 * w) : int(0.28 * w)].mean())


def audited(center: ControlCenter) -> list[dict[str, object]]:
    with center.db.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action.like("video.%")))
        return [dict(r._mapping) for r in rows]


def test_a_masked_view_is_recorded_once_per_viewing(center: ControlCenter) -> None:
    token = account(center.db, "op", role=Role.OPERATOR, installation_admin=False)
    with api_client(center, token) as c:
        for _ in range(3):  # the wall refreshes the tile
            r = c.get(SNAPSHOT)
            assert r.status_code == 200
            assert corner(r.content) < 20  # masked: black
        with c.stream("GET", LIVE) as live:
            assert live.status_code == 200
            next(live.iter_bytes())
    views = [(r["actor"], r["action"], r["target"]) for r in audited(center)]
    assert views == [("op", "video.snapshot", "cam-school"), ("op", "video.live", "cam-school")]


def test_an_unmasked_view_needs_the_flag_and_a_reason_and_is_recorded_each_time(
    center: ControlCenter,
) -> None:
    plain = account(center.db, "plain", role=Role.OPERATOR, installation_admin=False)
    with api_client(center, plain) as c:
        r = c.get(SNAPSHOT, params={"unmasked": "true", "reason": "a look"})
        assert r.status_code == 403
    admin = account(center.db, "boss", role=Role.ADMIN)  # admin: everything but unmasked
    with api_client(center, admin) as c:
        assert c.get(SNAPSHOT, params={"unmasked": "true", "reason": "x"}).status_code == 403
    cleared = account(
        center.db, "cleared", role=Role.OPERATOR, unmasked_video=True, installation_admin=False
    )
    with api_client(center, cleared) as c:
        assert c.get(SNAPSHOT, params={"unmasked": "true"}).status_code == 422
        assert c.get(SNAPSHOT, params={"unmasked": "true", "reason": "  "}).status_code == 422
        assert corner(c.get(SNAPSHOT).content) < 20  # without asking: masked
        reason = "police request 2026/117: identify the vehicle"
        for _ in range(2):
            r = c.get(SNAPSHOT, params={"unmasked": "true", "reason": reason})
            assert r.status_code == 200
            assert corner(r.content) > 200  # the white picture under the mask
        with c.stream("GET", LIVE, params={"unmasked": "true", "reason": reason}) as live:
            assert live.status_code == 200
    rows = [r for r in audited(center) if r["action"] == "video.unmasked"]
    assert [(r["actor"], r["reason"], r["detail"]["view"]) for r in rows] == [  # type: ignore[index]
        ("cleared", reason, "snapshot"),
        ("cleared", reason, "snapshot"),
        ("cleared", reason, "live"),
    ]
    # the masked picture is never served from an unmasked one (nor the other way round)
    with api_client(center, plain) as c:
        assert corner(c.get(SNAPSHOT).content) < 20


def test_who_may_look_at_a_camera(center: ControlCenter) -> None:
    until = datetime.now(UTC) + timedelta(days=1)
    cases: list[tuple[dict[str, object], int]] = [
        ({"role": Role.ANALYST}, 403),
        ({"role": Role.AUDITOR}, 403),
        ({"role": Role.OPERATOR, "municipality": "elsewhere"}, 404),
        ({"role": Role.LIAISON, "agency": "police", "expires_at": until}, 404),  # no incident
        ({"role": Role.SUPERVISOR}, 200),
    ]
    for who, status in cases:
        token = account(center.db, installation_admin=False, **who)  # type: ignore[arg-type]
        with api_client(center, token) as c:
            assert c.get(SNAPSHOT).status_code == status, who
    with api_client(center) as c:
        c.headers.pop("Authorization")
        assert c.get(SNAPSHOT).status_code == 401
        assert c.get(LIVE).status_code == 401
