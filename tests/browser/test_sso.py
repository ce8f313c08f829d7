"""Single sign-on in headless Chromium: the console's login screen offers the municipality's
identity provider (a real OpenID Provider on loopback, tests/oidc_op), the browser goes there,
signs in on the provider's own page and comes back to the console signed in; a person whose
groups give no role comes back to the login screen, told why."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.api.test_oidc import ACCOUNTS, CONFIG, PROVIDER, SECRET
from tests.harness import MosquittoServer
from tests.harness.live_server import LiveServer
from tests.harness.oidc_provider import OidcProvider, unavailable_reason
from tests.town import MUNI, TOWN_YAML

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


@pytest.fixture
def sso_server(
    tmp_path: Path, mosquitto: MosquittoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    """CityOps with the test town and one identity provider, a real OP on loopback."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
        pytest.skip(reason)
    server = LiveServer(tmp_path, mosquitto.url, [TOWN_YAML])
    callback = f"{server.url}/api/v1/auth/oidc/{PROVIDER}/callback"
    client = {"client_id": "cityops", "client_secret": SECRET, "redirect_uris": [callback]}
    with OidcProvider(clients=[client], accounts=ACCOUNTS) as op:
        config = tmp_path / "oidc.yaml"
        text = CONFIG.format(provider=PROVIDER, issuer=op.issuer, muni=MUNI)
        config.write_text(text, encoding="utf-8")
        monkeypatch.setenv("CITYOPS_TEST_OIDC_SECRET", SECRET)
        server.settings = server.settings.model_copy(update={"oidc_config": config})
        with server:
            yield server


def sign_in_at_the_provider(page: Page, login: str) -> None:
    page.goto(page.url)  # the console, freshly
    button = page.locator(f"#sso-list a[data-provider={PROVIDER}]")
    expect(button).to_have_text("Вход чрез Тестова община")  # Bulgarian before anyone signs in
    button.click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(str(ACCOUNTS[login]["password"]))
    page.locator("button[type=submit]").click()


def test_sign_in_through_the_municipalitys_identity_provider(
    sso_server: LiveServer, fresh_page: Page
) -> None:
    page = fresh_page
    page.goto(sso_server.url)
    expect(page.get_by_test_id("login-screen")).to_be_visible()
    sign_in_at_the_provider(page, "ivanova")
    # back in the console, signed in with the provider's account and its mapped role
    expect(page.get_by_test_id("login-screen")).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#user-name")).to_have_text("Мария Иванова")
    me = page.request.get(sso_server.api("/auth/me")).json()
    assert me["username"] == "town.ivanova"
    assert me["via"] == "oidc"
    assert [(m["municipality"], m["role"]) for m in me["memberships"]] == [(MUNI, "operator")]


def test_a_person_without_a_role_comes_back_to_the_login_told_why(
    sso_server: LiveServer, fresh_page: Page
) -> None:
    page = fresh_page
    page.goto(sso_server.url)
    sign_in_at_the_provider(page, "ghost")
    expect(page.get_by_test_id("login-screen")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("акаунтът ви няма роля в CityOps")
    assert page.request.get(sso_server.api("/auth/me")).status == 401
    # the login screen in English: the provider's button follows
    page.locator(".login-lang-btn[data-lang=en]").click()
    expect(page.locator(f"#sso-list a[data-provider={PROVIDER}]")).to_have_text(
        "Sign in with Test town"
    )
