"""Device credentials in the database (services/devices.py): the secret only as a hash, the
audit record of every change, revocation, and the Mosquitto files made from them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cityops.bus import mosquitto
from cityops.domain.devices import DeviceKind, DeviceScope, ScopeError
from cityops.services import devices
from cityops.store.db import make_engine, upgrade
from cityops.store.tables_audit import audit_log
from cityops.store.tables_devices import device_credentials


@pytest.fixture
def db(db_url: str) -> Engine:
    upgrade(db_url)
    return make_engine(db_url)


def make(db: Engine, scope: DeviceScope) -> devices.Issued:
    with db.begin() as conn:
        return devices.create(conn, scope, actor="admin")


RIVER = DeviceScope("river", DeviceKind.GATEWAY, "tt", ("river-1",))


def test_the_secret_is_returned_once_and_stored_only_as_a_hash(db: Engine) -> None:
    issued = make(db, RIVER)
    with db.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(device_credentials))]
        assert devices.authenticate(conn, "tt.river", issued.secret) is not None
        assert devices.authenticate(conn, "tt.river", issued.secret[:-1]) is None
        assert devices.authenticate(conn, "tt.nobody", issued.secret) is None
    assert len(rows) == 1
    assert issued.secret not in repr(rows)
    assert rows[0]["secret_hash"].startswith("$7$")
    assert rows[0]["devices"] == ["river-1"]


def test_create_and_revoke_are_audited(db: Engine) -> None:
    make(db, RIVER)
    with db.begin() as conn:
        devices.revoke(conn, "tt.river", actor="admin", reason="gateway stolen")
    with db.connect() as conn:
        records = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
    assert [(r["action"], r["target"], r["actor"]) for r in records] == [
        ("device.credential", "tt.river", "admin"),
        ("device.credential", "tt.river", "admin"),
    ]
    assert records[1]["reason"] == "gateway stolen"


def test_a_revoked_credential_no_longer_logs_in_and_its_name_is_not_reused(db: Engine) -> None:
    issued = make(db, RIVER)
    with db.begin() as conn:
        devices.revoke(conn, "tt.river", actor="admin")
    with db.connect() as conn:
        assert devices.authenticate(conn, "tt.river", issued.secret) is None
        assert [r.username for r in devices.listed(conn)] == []
        assert [r.username for r in devices.listed(conn, include_revoked=True)] == ["tt.river"]
    with pytest.raises(devices.CredentialError, match="no active credential"), db.begin() as c:
        devices.revoke(c, "tt.river", actor="admin")
    with pytest.raises(devices.CredentialError, match="exists"):
        make(db, RIVER)


def test_a_frigate_prefix_is_one_municipalitys(db: Engine) -> None:
    make(db, DeviceScope("nvr", DeviceKind.FRIGATE, "tt", prefix="site-a/frigate"))
    make(db, DeviceScope("nvr2", DeviceKind.FRIGATE, "tt", prefix="site-a/frigate"))  # its own
    for theirs in ("site-a/frigate", "site-a", "site-a/frigate/cam"):
        with pytest.raises(devices.CredentialError, match="overlaps"):
            make(db, DeviceScope("nvr", DeviceKind.FRIGATE, "kz", prefix=theirs))
    make(db, DeviceScope("nvr", DeviceKind.FRIGATE, "kz", prefix="site-a/frigate2"))


def test_a_bad_scope_is_refused_and_nothing_is_stored(db: Engine) -> None:
    with pytest.raises(ScopeError):
        make(db, DeviceScope("x", DeviceKind.CAMERA, None))
    with db.connect() as conn:
        assert devices.listed(conn, include_revoked=True) == []


def test_the_mosquitto_files(db: Engine, tmp_path: Path) -> None:
    make(db, RIVER)
    make(db, DeviceScope("nvr", DeviceKind.FRIGATE, "tt", prefix="frigate-tt"))
    make(db, DeviceScope("ingest", DeviceKind.INGEST, None))
    make(db, DeviceScope("gone", DeviceKind.CAMERA, "kz"))
    with db.begin() as conn:
        devices.revoke(conn, "kz.gone", actor="admin")
        rows = devices.listed(conn, include_revoked=True)
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.write_text("old\n")
    passwd.chmod(0o604)
    result = mosquitto.sync(rows, passwd, acl)
    assert result.credentials == 3
    assert result.reloaded_pid is None
    assert stat.S_IMODE(passwd.stat().st_mode) == 0o604  # the old file's mode kept
    assert stat.S_IMODE(acl.stat().st_mode) == 0o640
    assert [line.split(":")[0] for line in passwd.read_text().splitlines()] == [
        "_all.ingest",
        "tt.nvr",
        "tt.river",
    ]
    text = acl.read_text()
    assert "kz.gone" not in text
    assert text.index("user _all.ingest") < text.index("topic read frigate-tt/events")
    assert "user tt.river\ntopic write cityops/tt/sensors/river-1/readings\n" in text
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # no temporary left
