"""E-mail through a real local SMTP server (aiosmtpd): both languages, the map position and the
incident's link, a one-time reply link that acknowledges; STARTTLS against a server that
requires it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.dispatch import message
from cityops.dispatch.senders import SmtpConfig, send_email
from cityops.domain.dispatch import Channel, DeliveryStatus
from cityops.store.dispatch_repo import Delivery
from tests.dispatch.conftest import Setup
from tests.dispatch.receivers import self_signed, smtp_server
from tests.dispatch.support import (
    BASE,
    PUBLIC_URL,
    deliveries,
    dispatch,
    new_incident,
    timeline,
    wait_for,
)
from tests.town import MUNI


def test_email_is_bilingual_with_position_link_and_a_one_time_reply_link(env: Setup) -> None:
    incident_id = new_incident(env.center, "Road blocked by a fallen tree")
    dispatch(env.client, incident_id, "traffic-police")
    sent = wait_for(
        lambda: (
            [d for d in deliveries(env.center, incident_id) if d.status is DeliveryStatus.SENT]
            if len(deliveries(env.center, incident_id)) == 2
            and all(d.status is DeliveryStatus.SENT for d in deliveries(env.center, incident_id))
            else None
        )
    )
    assert sorted(d.target for d in sent) == ["chief@traffic.example", "duty@traffic.example"]
    mails = [m for rcpt, m in env.mailbox.messages if rcpt == ["duty@traffic.example"]]
    assert len(mails) == 1
    mail = mails[0]
    subject = str(mail["Subject"])
    assert "Инцидент" in subject
    assert "Incident" in subject
    assert "Пожар на кръстовището" in subject
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Място: 42.619400, 25.392500 (geo:42.619400,25.392500)" in text
    assert "Position: 42.619400, 25.392500 (geo:42.619400,25.392500)" in text
    assert "Заглавие: Пожар на кръстовището" in text  # Bulgarian title
    assert "Title: Road blocked by a fallen tree" in text  # English title
    link = f"{PUBLIC_URL}/#/m/{MUNI}/incidents/{incident_id}"  # the console opens it
    assert f"Инцидентът: {link}" in text
    assert f"The incident: {link}" in text
    found = re.search(r"Acknowledge receipt: (\S+)", text)
    assert found is not None
    reply = found.group(1)
    assert reply.startswith(PUBLIC_URL)
    path = reply.removeprefix(PUBLIC_URL)

    page = env.client.get(path)
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert not timeline(env.client, incident_id, "dispatch_ack")  # opening it is not enough
    token = path.split("token=")[1]
    form = {"token": token, "reference": "TP-77"}
    posted = env.client.post(path.split("?")[0], data=form)
    assert posted.status_code == 200, posted.text
    acks = timeline(env.client, incident_id, "dispatch_ack")
    assert [a["data"]["via"] for a in acks] == ["link"]
    assert acks[0]["data"]["reference"] == "TP-77"
    assert env.client.post(path.split("?")[0], data=form).status_code == 401  # one-time
    assert env.client.get(path).status_code == 401
    assert env.client.get(path.replace(token, token[:-2] + "xx")).status_code == 401
    many = "&".join(f"f{i}=x" for i in range(10))
    assert env.client.post(path.split("?")[0], content=many).status_code == 422


def _delivery() -> Delivery:
    now = datetime.now(UTC)
    return Delivery(
        id=7,
        municipality="testtown",
        incident_id=3,
        agency="fire",
        channel=Channel.EMAIL,
        target="duty@fire.example",
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_at=now,
        last_error=None,
        payload={
            "incident": {
                "id": 3,
                "municipality": "testtown",
                "type": "fire",
                "severity": "severe",
                "status": "dispatched",
                "title": "Fire",
                "title_local": "Пожар",
                "location": None,
            }
        },
        reply_token_hash=None,
        created_at=now,
        sent_at=None,
        acknowledged_at=None,
    )


def test_starttls_to_a_server_that_requires_it(tmp_path: Path) -> None:
    context, cert = self_signed(tmp_path)
    mail = message.email(
        _delivery(),
        message.Links("http://x"),
        sender="cityops@town.example",
        sent_at=datetime.now(UTC),
        reply_token="t",
    )
    with smtp_server(tls=context) as (port, box):
        plain = SmtpConfig(host="127.0.0.1", port=port, sender="cityops@town.example")
        refused = send_email(plain, mail)
        assert refused is not None
        assert "STARTTLS" in refused
        untrusted = SmtpConfig(host="127.0.0.1", port=port, starttls=True)
        error = send_email(untrusted, mail)
        assert error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in error
        trusted = SmtpConfig(host="127.0.0.1", port=port, starttls=True, cafile=cert)
        assert send_email(trusted, mail) is None
        assert len(box.messages) == 1
        assert "Място: няма" in box.messages[0][1].get_body().get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize("port", [1])
def test_an_unreachable_smtp_server_is_a_reason_not_an_exception(port: int) -> None:
    mail = message.email(
        _delivery(),
        message.Links("http://x"),
        sender="a@b.example",
        sent_at=datetime.now(UTC),
        reply_token="t",
    )
    error = send_email(SmtpConfig(host="127.0.0.1", port=port, timeout_s=2), mail)
    assert error is not None
    assert error.startswith("ConnectionRefusedError")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=600), token=st.text(max_size=120))
def test_any_reply_form_or_link_is_refused_cleanly(env: Setup, body: bytes, token: str) -> None:
    """Outside input on the public reply routes: never a 5xx, never an acknowledgment."""
    url = f"{BASE}/dispatch/1/reply"
    posted = env.client.post(url, content=body)
    assert posted.status_code in (401, 422)
    assert env.client.get(url, params={"token": token}).status_code in (401, 422)


def test_a_title_with_line_breaks_cannot_inject_headers() -> None:
    delivery = _delivery()
    incident = dict(delivery.payload["incident"])
    incident["title_local"] = "Пожар\r\nBcc: everyone@example.com"
    hostile = replace(delivery, payload={"incident": incident})
    mail = message.email(
        hostile,
        message.Links("http://x"),
        sender="a@b.example",
        sent_at=datetime.now(UTC),
        reply_token="t",
    )
    assert mail["Bcc"] is None
    assert str(mail["Subject"]).endswith("Пожар Bcc: everyone@example.com")
