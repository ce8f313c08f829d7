"""The outbox is durable: a delivery committed with the dispatch survives a restart of the
server and is sent by the next process; a delivery claimed by a process that died is tried
again once its lease ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityops.app import ControlCenter
from cityops.domain.dispatch import DeliveryStatus
from cityops.settings import Settings
from cityops.store import dispatch_repo
from tests.dispatch.receivers import webhook_receiver
from tests.dispatch.support import (
    POLICE_SECRET,
    SECRET,
    SECRET_ENV,
    deliveries,
    dispatch,
    dispatch_yaml,
    new_incident,
    wait_for,
)
from tests.town import api_client, start_center


def test_a_pending_delivery_survives_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    secret_file = tmp_path / "police.secret"
    secret_file.write_text(POLICE_SECRET, encoding="utf-8")
    with webhook_receiver() as hooks:
        yaml = dispatch_yaml(tmp_path, hooks.url, secret_file)
        # first process: no dispatch worker (as if it died right after the commit)
        first = start_center(tmp_path, with_mqtt=False, also=[yaml], dispatch_poll_s=0)
        try:
            with api_client(first) as client:
                incident_id = new_incident(first)
                dispatch(client, incident_id, "civil-protection")
            pending = deliveries(first, incident_id)
            assert [d.status for d in pending] == [DeliveryStatus.PENDING]
            # and one already claimed by a process that died mid-try: its lease runs out
            with first.db.begin() as conn:
                assert dispatch_repo.claim(conn, pending[0], datetime.now(UTC), lease_s=1.0)
        finally:
            first.stop()
        assert hooks.received == []

        settings = Settings(
            data_dir=tmp_path,
            camera_probe_s=0,
            video_worker=False,
            session_cookie_secure=False,
            dispatch_poll_s=0.05,
        )
        second = ControlCenter(settings)
        second.start(with_mqtt=False)
        try:
            sent = wait_for(
                lambda: [
                    d for d in deliveries(second, incident_id) if d.status is DeliveryStatus.SENT
                ]
            )
            assert sent[0].id == pending[0].id
            assert sent[0].attempts == 1
            assert sent[0].sent_at is not None
            assert sent[0].sent_at >= pending[0].next_at + timedelta(seconds=1)  # after the lease
            assert len(hooks.on("/cp")) == 1
        finally:
            second.stop()
