"""A municipality's admin manages its members over HTTP (roles there only; audited)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.store.tables_audit import audit_log
from tests.town import MUNI, NEIGHBOUR, account, api_client, neighbour_yaml, start_center

USERS = f"/api/v1/m/{MUNI}/users"


def test_an_admin_grants_changes_and_takes_away_roles_here_only(tmp_path: Path) -> None:
    center: ControlCenter = start_center(tmp_path, with_mqtt=False, also=[neighbour_yaml(tmp_path)])
    try:
        newcomer = account(center.db, "newcomer", role=None, installation_admin=False)
        with api_client(
            center, username="admin-1", display_name="Admin", installation_admin=False
        ) as admin:
            put = admin.put(f"{USERS}/newcomer", json={"role": "operator"})
            assert put.status_code == 200, put.text
            assert put.json()["role"] == "operator"
            assert put.json()["unmasked_video"] is False
            with TestClient(admin.app) as them:  # the newcomer can now work here
                them.headers["Authorization"] = f"Bearer {newcomer}"
                assert them.get(f"/api/v1/m/{MUNI}/incidents").status_code == 200
                assert them.get(f"/api/v1/m/{NEIGHBOUR}/incidents").status_code == 404
                liaison = {"role": "liaison", "agency": "civil-protection"}
                assert admin.put(f"{USERS}/newcomer", json=liaison).status_code == 422  # no end
                liaison["expires_at"] = "2099-01-01T00:00:00+02:00"
                assert admin.put(f"{USERS}/newcomer", json=liaison).status_code == 200
                unknown = {**liaison, "agency": "ghostbusters"}
                assert admin.put(f"{USERS}/newcomer", json=unknown).status_code == 422
                naive = {**liaison, "expires_at": "2099-01-01T00:00:00"}
                assert admin.put(f"{USERS}/newcomer", json=naive).status_code == 422
                members = {m["username"]: m for m in admin.get(USERS).json()}
                assert members["newcomer"]["role"] == "liaison"
                assert members["newcomer"]["agency"] == "civil-protection"
                assert set(members) == {"admin-1", "newcomer"}
                assert admin.put(f"{USERS}/nobody", json={"role": "analyst"}).status_code == 404
                assert admin.delete(f"{USERS}/newcomer").status_code == 204
                assert admin.delete(f"{USERS}/newcomer").status_code == 404
                assert them.get(f"/api/v1/m/{MUNI}/incidents").status_code == 404
            # an admin of the test town is nobody in the neighbouring town
            there = admin.put(f"/api/v1/m/{NEIGHBOUR}/users/newcomer", json={"role": "admin"})
            assert there.status_code == 404
        with center.db.connect() as conn:
            changes = conn.execute(
                select(audit_log.c.actor, audit_log.c.target).where(
                    audit_log.c.action == "role.changed", audit_log.c.actor == "admin-1"
                )
            ).all()
        assert changes == [("admin-1", "user:newcomer")] * 3  # operator, liaison, removed
    finally:
        center.stop()


def test_a_supervisor_cannot_manage_members(tmp_path: Path) -> None:
    center = start_center(tmp_path, with_mqtt=False)
    try:
        account(center.db, "someone", role=None)
        with api_client(center, role=Role.SUPERVISOR, installation_admin=True) as supervisor:
            assert supervisor.get(USERS).status_code == 403
            r = supervisor.put(f"{USERS}/someone", json={"role": "admin"})
            assert r.status_code == 403
    finally:
        center.stop()
