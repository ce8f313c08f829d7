"""Public warnings in headless Chromium against a real server on Mosquitto: a CAP alert pushed
to CityOps appears live on the map's warnings layer (its area and marker, its signature verdict
in the popup); a supervisor drafts a bilingual warning from an incident with a circle drawn on
the map, publishes it (signed, delivered to the BG-ALERT endpoint, a local receiver that fails
once then accepts), sees the delivery in the panel, updates it, then cancels the update; the
panel speaks Bulgarian; the console breaks no CSP rule."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cityops import safexml
from cityops.cap.check import check
from cityops.domain.access import Role
from tests.browser.conftest import sign_in
from tests.browser.test_console import auth, open_console, queue_item
from tests.browser.test_shares_console import ACCIDENT, CSP_WATCH, expect, publish_accident
from tests.cap.intake_support import town_with_warnings
from tests.cap.support import alert_xml, signing_pair
from tests.dispatch.receivers import WebhookReceiver, webhook_receiver
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.town import MUNI, TOWN_YAML

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

SECRET_ENV = "CITYOPS_TEST_BROWSER_BG_ALERT"
ENDPOINT = f"""  endpoints:
    - {{id: bg-alert, kind: bg-alert, url: "URL/bg", secret_env: {SECRET_ENV}}}
"""
FAR = "2099-01-01T00:00:00+02:00"


@pytest.fixture
def warned(
    tmp_path: Path, mosquitto: MosquittoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, WebhookReceiver]]:
    monkeypatch.setenv(SECRET_ENV, "browser-test-bg-alert-secret")
    key, cert = signing_pair()
    (tmp_path / "cap.key").write_bytes(key)
    (tmp_path / "cap.crt").write_bytes(cert)
    with webhook_receiver() as receiver:
        receiver.fail["/bg"] = 1
        town = town_with_warnings(tmp_path, ENDPOINT.replace("URL", receiver.url))
        server = LiveServer(tmp_path, mosquitto.url, [TOWN_YAML, town])
        server.settings = server.settings.model_copy(
            update={
                "cap_sender": "warnings@testtown.bg",
                "cap_signing_key": tmp_path / "cap.key",
                "cap_signing_cert": tmp_path / "cap.crt",
                "dispatch_poll_s": 0.1,
                "dispatch_backoff_s": 0.2,
            }
        )
        with server:
            yield server, receiver


def push_alert(server: LiveServer, identifier: str) -> None:
    answer = httpx.post(
        server.api(f"/m/{MUNI}/cap/alerts"),
        content=alert_xml(identifier=identifier, expires=FAR),
        headers={**auth(server), "Content-Type": "application/cap+xml"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def fill_texts(page: Page) -> None:
    form = page.get_by_test_id("warning-form")
    for lang, event, headline, text in (
        ("bg", "Произшествие", "Затворено кръстовище", "Кръстовището е затворено."),
        ("en", "Accident", "Crossing closed", "The crossing is closed."),
    ):
        form.get_by_test_id(f"warning-{lang}-event").fill(event)
        form.get_by_test_id(f"warning-{lang}-headline").fill(headline)
        form.get_by_test_id(f"warning-{lang}-description").fill(text)


def served_valid(server: LiveServer, identifier: str, oasis: Path) -> bytes:
    data = httpx.get(server.api(f"/m/{MUNI}/cap/{identifier}.xml"), timeout=5).content
    assert safexml.schema_errors(safexml.parse(data), oasis) == []
    verdict = check(data)
    assert verdict.valid, verdict.reasons
    assert verdict.signature is not None
    assert verdict.signature.status == "valid"
    return data


@pytest.mark.timeout(180)
def test_warnings_layer_and_publishing_from_an_incident(
    fresh_page: Page,
    warned: tuple[LiveServer, WebhookReceiver],
    publish: Any,
    shared_data: Path,
    shot: Callable[[Page, str], Path],
) -> None:
    server, receiver = warned
    page = fresh_page
    page.add_init_script(CSP_WATCH)
    sign_in(page, server, "petrova", display_name="Petrova", role=Role.SUPERVISOR)
    open_console(page, server)

    # a pushed alert appears on the map live, with its area and its signature verdict
    push_alert(server, "ext-1")
    marker = page.locator('[data-testid="warning-marker"][data-identifier="ext-1"]')
    expect(marker).to_have_count(1, timeout=10_000)
    expect(page.locator("#map")).to_have_attribute("data-warnings", "1")
    expect(page.locator("#map")).to_have_attribute("data-warning-areas", "2")  # polygon, circle
    marker.click()
    popup = page.get_by_test_id("warning-popup")
    expect(popup).to_contain_text("Наводнение в центъра")
    expect(popup.get_by_test_id("warning-signature")).to_have_text("Signature: absent")
    page.keyboard.press("Escape")

    alert_id = publish_from_the_panel(page, server, receiver, publish, shared_data)
    shot(page, "published")
    update_then_cancel(page, server, alert_id, shared_data)

    # bilingual: the panel in Bulgarian
    page.locator(".lang-btn[data-lang=bg]").click()
    expect(page.get_by_test_id("warning-block")).to_contain_text(
        "Предупреждение към населението (CAP)"
    )
    expect(page.get_by_test_id("warning-open")).to_have_text("Ново предупреждение")
    assert page.evaluate("window.__csp") == []


def publish_from_the_panel(
    page: Page, server: LiveServer, receiver: WebhookReceiver, publish: Any, shared_data: Path
) -> str:
    """A warning drafted from the incident, its circle drawn on the map: published, signed,
    delivered to BG-ALERT after one failure. Returns its identifier."""
    publish_accident(publish)
    item = queue_item(page, ACCIDENT)
    expect(item).to_have_count(1, timeout=10_000)
    item.click()
    block = page.get_by_test_id("warning-block")
    expect(block.get_by_test_id("cap-message")).to_have_count(0)
    block.get_by_test_id("warning-open").click()
    fill_texts(page)
    block.get_by_test_id("warning-severity").select_option("Moderate")
    block.get_by_test_id("warning-radius").fill("300")
    block.get_by_test_id("warning-draw").click()
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
    expect(block.get_by_test_id("warning-where")).to_contain_text("Centre 42.")
    block.get_by_test_id("warning-submit").click()
    first = block.locator('[data-testid="cap-message"][data-msg-type="Alert"]')
    expect(first).to_have_attribute("data-in-force", "true", timeout=10_000)
    # delivered to the civil-protection operator after one failure; the panel follows live
    sent = first.locator('[data-testid="cap-delivery"][data-endpoint="bg-alert"]')
    expect(sent).to_have_attribute("data-status", "sent", timeout=20_000)
    expect(sent).to_contain_text("(2 tries)")
    alert_id = first.get_attribute("data-identifier") or ""
    own = page.locator(f'[data-testid="warning-marker"][data-identifier="{alert_id}"]')
    expect(own).to_have_attribute("data-own", "true")  # CityOps's own warning on the layer, live
    oasis = shared_data / "cap" / "CAP-v1.2-oasis.xsd"
    xml = served_valid(server, alert_id, oasis)
    alert = check(xml).alert
    assert alert is not None
    circle = alert.infos[0].areas[0].circles[0]
    assert circle.radius_km == pytest.approx(0.3)
    assert [i.severity for i in alert.infos] == ["Moderate", "Moderate"]
    assert [i.language for i in alert.infos] == ["bg-BG", "en-US"]
    envelope = json.loads(receiver.on("/bg")[-1].body)
    assert base64.b64decode(envelope["cap"]["xml_base64"]) == xml
    return alert_id


def update_then_cancel(page: Page, server: LiveServer, alert_id: str, shared_data: Path) -> None:
    """The one in force is updated, then the update cancelled, from the same form; each
    references the one before it."""
    block = page.get_by_test_id("warning-block")
    first = block.locator(f'[data-testid="cap-message"][data-identifier="{alert_id}"]')
    oasis = shared_data / "cap" / "CAP-v1.2-oasis.xsd"
    form = block.get_by_test_id("warning-form")
    expect(form).to_have_attribute("data-mode", "update")
    expect(block.get_by_test_id("warning-submit")).to_have_text("Publish update")
    block.get_by_test_id("warning-severity").select_option("Severe")
    block.get_by_test_id("warning-submit").click()
    update = block.locator('[data-testid="cap-message"][data-msg-type="Update"]')
    expect(update).to_have_attribute("data-in-force", "true", timeout=10_000)
    expect(first).to_have_attribute("data-in-force", "false")
    update_id = update.get_attribute("data-identifier") or ""
    updated = check(served_valid(server, update_id, oasis)).alert
    assert updated is not None
    assert [r.identifier for r in updated.references] == [alert_id]
    assert updated.infos[0].severity == "Severe"
    block.get_by_test_id("warning-cancel").click()
    cancel = block.locator('[data-testid="cap-message"][data-msg-type="Cancel"]')
    expect(cancel).to_have_count(1, timeout=10_000)
    expect(update).to_have_attribute("data-in-force", "false")
    expect(form).to_have_attribute("data-mode", "alert")
    expect(page.locator('[data-testid="warning-marker"][data-own="true"]')).to_have_count(0)
    cancelled = check(served_valid(server, cancel.get_attribute("data-identifier") or "", oasis))
    assert cancelled.alert is not None
    assert [r.identifier for r in cancelled.alert.references] == [update_id]
