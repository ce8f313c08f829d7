"""Headless Debian Chromium for the browser tests, the console benchmark and the docs
screenshots: where it is, how it is launched, and a fresh console page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
OPERATOR = "Иванова"
"""The display name of the test operator's account (Cyrillic): what every timeline entry of its
actions names."""


def new_page(browser: Browser) -> tuple[Page, list[str]]:
    """A page in a fresh browser context (own cookies and localStorage, nobody signed in), and
    the list its uncaught JavaScript errors go to."""
    context = browser.new_context(
        viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Sofia", device_scale_factor=1
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors
