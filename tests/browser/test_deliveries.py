"""The dispatch e-mail's link opens the incident in the console, and the incident's panel lists
its deliveries to agencies as they go, in headless Chromium against a real server and real
webhook receivers: one agency's webhook answers (sent, then acknowledged by its signed
callback), another's never does (retrying, with its last error)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cityops.dispatch import signing
from tests.dispatch.receivers import WebhookReceiver, webhook_receiver
from tests.dispatch.support import (
    BASE,
    POLICE_SECRET,
    SECRET,
    SECRET_ENV,
    deliveries,
    dispatch_yaml,
    new_incident,
    wait_for,
)
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.town import MUNI

from .conftest import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        receiver.fail["/down"] = -1  # the police's system never answers 200
        yield receiver


@pytest.fixture
def dispatching(
    tmp_path: Path, mosquitto: MosquittoServer, hooks: WebhookReceiver, monkeypatch: Any
) -> Iterator[LiveServer]:
    """A server whose civil protection and police have webhooks, retrying every 0.3 s."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    secret_file = tmp_path / "police.secret"
    secret_file.write_text(POLICE_SECRET + "\n", encoding="utf-8")
    town = dispatch_yaml(tmp_path, hooks.url, secret_file)
    server = LiveServer(tmp_path, mosquitto.url, [town])
    server.settings = server.settings.model_copy(
        update={
            "dispatch_poll_s": 0.1,
            "dispatch_backoff_s": 0.3,
            "dispatch_backoff_cap_s": 0.3,
            "dispatch_max_attempts": 100,
            "public_url": server.url,
        }
    )
    with server:
        yield server


def act(server: LiveServer, incident_id: int, *steps: tuple[str, dict[str, str] | None]) -> None:
    headers = server.headers()  # an admin's API token
    for step, body in steps:
        r = httpx.post(
            server.api(f"/m/{MUNI}/incidents/{incident_id}/{step}"), json=body, headers=headers
        )
        assert r.status_code == 200, r.text


def acknowledge_signed(server: LiveServer, delivery_id: int) -> None:
    """Civil protection's system acknowledges its delivery (the signed callback)."""
    body = json.dumps({"reference": "CP-2026-7", "by": "Duty"}).encode()
    stamp = int(time.time())
    r = httpx.post(
        f"{server.url}{BASE}/dispatch/{delivery_id}/ack",
        content=body,
        headers={
            "Content-Type": "application/json",
            signing.TIMESTAMP_HEADER: str(stamp),
            signing.SIGNATURE_HEADER: signing.sign(SECRET.encode(), stamp, body),
        },
    )
    assert r.status_code == 200, r.text


def test_the_mails_link_opens_the_incident_and_its_deliveries_show_how_they_went(
    fresh_page: Page, dispatching: LiveServer, hooks: WebhookReceiver
) -> None:
    server = dispatching
    center = server.center
    assert center is not None
    incident_id = new_incident(center, "Fire at the crossing")
    act(server, incident_id, ("acknowledge", None), ("assign", {"agency": "civil-protection"}))
    act(server, incident_id, ("dispatch", None))
    sent = wait_for(lambda: [d for d in deliveries(center, incident_id) if d.sent_at])
    # the link an agency's e-mail carries, opened in a browser with no session yet
    link = f"{server.url}/#/m/{MUNI}/incidents/{incident_id}"
    page = fresh_page
    page.goto(link)
    expect(page.locator("#login-screen")).to_be_visible()
    sign_in(page, server)  # the operator signs in (through the API, as the form would)
    page.reload()  # the link is still in the address bar: the console opens the incident
    head = page.locator('[data-testid="incident-head"]')
    expect(head).to_have_attribute("data-incident-id", str(incident_id))
    expect(page.locator("#detail-title")).to_have_text("Fire at the crossing")
    page.wait_for_function("() => location.hash === ''")  # a reload does not reopen it

    rows = page.locator('[data-testid="delivery"]')
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-status", "sent")
    expect(rows.first).to_contain_text("Civil Protection")
    expect(rows.first).to_contain_text(f"{hooks.url}/cp")

    # re-assigned to the police (a dispatched incident goes to the new agency at once), whose
    # webhook answers 500 every time
    act(server, incident_id, ("assign", {"agency": "police"}))
    police = page.locator('[data-testid="delivery"][data-status="retrying"]')
    expect(police).to_have_count(1, timeout=15_000)
    expect(police).to_contain_text("Police 112")
    expect(police.locator('[data-testid="delivery-error"]')).to_contain_text("500")

    # civil protection acknowledges: the row says so without a reload
    acknowledge_signed(server, sent[0].id)
    cp = page.locator(f'[data-testid="delivery"][data-delivery-id="{sent[0].id}"]')
    expect(cp).to_have_attribute("data-status", "acknowledged", timeout=15_000)
    expect(cp.locator('[data-testid="delivery-status"]')).to_have_text("Acknowledged")


def test_an_incident_without_deliveries_says_so_and_a_link_elsewhere_is_refused(
    page: Page, server: LiveServer
) -> None:
    assert server.center is not None
    incident_id = new_incident(server.center, "Smoke at the school")
    page.goto(f"{server.url}/#/m/{MUNI}/incidents/{incident_id}")
    expect(page.locator("#detail-title")).to_have_text("Smoke at the school")
    expect(page.locator('[data-testid="deliveries-none"]')).to_be_visible()
    # a link followed while the console is open, to a municipality this account does not see:
    # told so, nothing else opened, the hash cleared
    page.goto(f"{server.url}/#/m/elsewhere/incidents/{incident_id + 1}")
    expect(page.locator(".toast").filter(has_text="elsewhere")).to_be_visible()
    page.wait_for_function("() => location.hash === ''")
    head = page.locator('[data-testid="incident-head"]')
    expect(head).to_have_attribute("data-incident-id", str(incident_id))
