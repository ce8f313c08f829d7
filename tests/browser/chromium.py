"""Headless Debian Chromium for the browser tests, the console benchmark and the docs
screenshots: where it is, how it is launched, and a fresh console page."""

from __future__ import annotations

import json
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
"""A Cyrillic operator name: it travels percent-encoded in X-CityOps-Operator."""


def new_page(browser: Browser, *, operator: str | None = OPERATOR) -> tuple[Page, list[str]]:
    """A page in a fresh browser context (own localStorage), with the operator's name already
    stored (None: the console asks for it), and the list its uncaught JavaScript errors go to."""
    context = browser.new_context(
        viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Sofia", device_scale_factor=1
    )
    context.set_default_timeout(10_000)
    if operator is not None:
        context.add_init_script(
            f"localStorage.setItem('cityops.operator', {json.dumps(operator)});"
        )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors
