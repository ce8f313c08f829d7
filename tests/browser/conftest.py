"""Fixtures for the browser tests: headless Chromium (Playwright), a real CityOps server on
Mosquitto with the test town, and a console page signed in with a real account (an operator of
the test town, display name Иванова) through the real login API."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityops.domain.access import Role
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, OPERATOR, new_page
from tests.conftest import REPO_ROOT
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.town import MUNI, TOWN_YAML, account

ARTIFACTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "browser-test-password"

if TYPE_CHECKING:  # Playwright is imported lazily, so that a missing package skips cleanly
    from playwright.sync_api import Browser, Page


def _unavailable(reason: str) -> None:
    """Skip, or fail under CI=true (CI must really run the browser tests)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, shared by a test module. Per module, not
    per session: Playwright's sync API cannot run twice at once, and other directories (e.g.
    tests/security) start their own after this one is closed."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found: apt-get install chromium (or run `make test`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e .[dev])")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path: Path, mosquitto: MosquittoServer) -> Iterator[LiveServer]:
    """CityOps (SQLite in tmp_path) on the session's Mosquitto, test town imported, console in
    English by default."""
    with LiveServer(tmp_path, mosquitto.url, [TOWN_YAML]) as running:
        yield running


@pytest.fixture
def publish(mosquitto: MosquittoServer) -> Iterator[Callable[[str, object], None]]:
    """publish(topic, payload): QoS 1 through the broker, returns once the broker has it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()

    def send(topic: str, payload: object) -> None:
        info = client.publish(topic, json.dumps(payload), qos=1)
        info.wait_for_publish(10)
        assert info.is_published(), f"broker did not acknowledge {topic}"

    yield send
    client.loop_stop()
    client.disconnect()


def sign_in(
    page: Page,
    server: LiveServer,
    username: str = "ivanova",
    *,
    display_name: str = OPERATOR,
    role: Role | None = Role.OPERATOR,
    agency: str | None = None,
    expires_at: datetime | None = None,
    municipality: str | list[str] = MUNI,
) -> None:
    """A real account with ``role`` in the test town (or ``municipality``), signed in through
    POST /api/v1/auth/login from the page's own browser context: the session cookie (HttpOnly)
    is the browser's."""
    assert server.center is not None
    account(
        server.center.db,
        username,
        display_name=display_name,
        role=role,
        municipality=municipality,
        agency=agency,
        expires_at=expires_at,
        installation_admin=False,
        password=PASSWORD,
    )
    answer = page.request.post(
        server.api("/auth/login"), data={"username": username, "password": PASSWORD}
    )
    assert answer.ok, answer.text()


@pytest.fixture
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A console page in a browser nobody has signed in with; fails on uncaught JS errors."""
    p, errors = new_page(browser)
    yield p
    p.context.close()
    assert not errors, f"uncaught JavaScript errors in the console: {errors}"


@pytest.fixture
def page(fresh_page: Page, server: LiveServer) -> Page:
    """A console page (not yet navigated) signed in as operator Иванова of the test town."""
    sign_in(fresh_page, server)
    return fresh_page


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """shot(page, name): save a screenshot to test-artifacts/screenshots/<test>-<name>.png."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")

    def take(p: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{slug}-{name}.png"
        p.screenshot(path=str(path))
        return path

    return take
