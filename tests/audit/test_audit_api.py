"""GET /api/v1/m/{mid}/audit and /retention: who saw which camera when and why, for auditors;
retention's policy and runs, for administrators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.domain.audit import AuditAction
from cityops.domain.retention import RetentionPolicy
from cityops.services import audit, retention
from cityops.services.retention import EvidenceStore
from tests.town import MUNI, T0, api_client, start_center


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = start_center(tmp_path, with_mqtt=False)
    views = [
        ("ivanova", AuditAction.VIDEO_LIVE, "cam-a", None),
        ("petrov", AuditAction.VIDEO_SNAPSHOT, "cam-b", None),
        ("ivanova", AuditAction.VIDEO_UNMASKED, "cam-a", "identify the driver, case 77"),
        ("petrov", AuditAction.INCIDENT_ACTION, "incident:4", None),
        ("ivanova", AuditAction.VIDEO_CLIP, "cam-b", None),
    ]
    for i, (actor, action, target, reason) in enumerate(views):
        with cc.db.begin() as conn:
            audit.record(
                conn,
                actor=actor,
                action=action,
                municipality=MUNI,
                target=target,
                reason=reason,
                detail={"n": i},
                at=T0 + timedelta(minutes=i),
            )
    with cc.db.begin() as conn:
        audit.record(conn, actor="x", action=AuditAction.VIDEO_LIVE, municipality="elsewhere")
    yield cc
    cc.stop()


def test_the_auditor_sees_who_saw_which_camera_when_and_why(center: ControlCenter) -> None:
    with api_client(center, role=Role.AUDITOR, installation_admin=False) as client:
        everything = client.get(f"/api/v1/m/{MUNI}/audit")
        assert everything.status_code == 200, everything.text
        rows = everything.json()
        # newest first; the accounts' own creation is audited too (role.changed), after ours
        mine = [r for r in rows if r["actor"] in ("ivanova", "petrov")]
        assert [r["detail"]["n"] for r in mine] == [4, 3, 2, 1, 0]
        assert all(r["municipality"] == MUNI for r in rows)
        unmasked = next(r for r in rows if r["action"] == "video.unmasked")
        assert unmasked["reason"] == "identify the driver, case 77"
        assert unmasked["at"].startswith("2026-11-20T10:02:00")
        assert set(unmasked) == {
            "seq",
            "at",
            "actor",
            "action",
            "municipality",
            "target",
            "reason",
            "detail",
        }

        cam_a = client.get(f"/api/v1/m/{MUNI}/audit", params={"camera": "cam-a"}).json()
        assert [(r["actor"], r["action"]) for r in cam_a] == [
            ("ivanova", "video.unmasked"),
            ("ivanova", "video.live"),
        ]
        filtered = client.get(
            f"/api/v1/m/{MUNI}/audit",
            params={
                "action": ["video.snapshot", "video.clip"],
                "actor": "petrov",
                "since": "2026-11-20T10:00:30Z",
                "until": "2026-11-20T12:01:30+02:00",
            },
        ).json()
        assert [r["target"] for r in filtered] == ["cam-b"]
        first_page = client.get(f"/api/v1/m/{MUNI}/audit", params={"limit": 2}).json()
        next_page = client.get(
            f"/api/v1/m/{MUNI}/audit", params={"limit": 2, "before": first_page[-1]["seq"]}
        ).json()
        assert next_page[0]["seq"] == first_page[-1]["seq"] - 1
        bad = client.get(f"/api/v1/m/{MUNI}/audit", params={"action": "video.teleport"})
        assert bad.status_code == 422
        assert client.get("/api/v1/m/elsewhere/audit").status_code == 404
        assert client.get(f"/api/v1/m/{MUNI}/retention").status_code == 403


def test_an_operator_may_not_read_the_audit_log(center: ControlCenter) -> None:
    with api_client(center, role=Role.OPERATOR, installation_admin=False) as client:
        assert client.get(f"/api/v1/m/{MUNI}/audit").status_code == 403


def test_admins_see_retention_in_force_and_its_last_run(center: ControlCenter) -> None:
    policy = RetentionPolicy()
    store = EvidenceStore(center.settings.evidence_root, center.settings.evidence_retention_days)
    done = retention.run(center.db, MUNI, policy, store)
    with api_client(center, role=Role.ADMIN, installation_admin=False) as client:
        view = client.get(f"/api/v1/m/{MUNI}/retention")
        assert view.status_code == 200, view.text
        body = view.json()
    assert body["days"] == {
        "evidence": 30.0,
        "readings": 90.0,
        "readings_hourly": None,
        "events": 365.0,
        "dead_letters": 30.0,
        "audit": pytest.approx(5 * 365.25),
    }
    assert body["last_run"]["ok"] is True
    assert body["last_run"]["removed"] == dict(done.removed)
    assert body["runs"] == [body["last_run"]]


def test_the_installation_admin_reads_the_installation_chain(center: ControlCenter) -> None:
    with center.db.begin() as conn:
        audit.record(conn, actor="mallory", action=AuditAction.LOGIN_FAILED, municipality=None)
    with api_client(center, role=None, installation_admin=True) as client:
        rows = client.get("/api/v1/audit", params={"action": "login.failed"}).json()
        assert [(r["actor"], r["municipality"]) for r in rows] == [("mallory", None)]
        assert client.get(f"/api/v1/m/{MUNI}/audit").status_code == 404  # no membership there
    with api_client(center, role=Role.AUDITOR, installation_admin=False) as client:
        assert client.get("/api/v1/audit").status_code == 403
