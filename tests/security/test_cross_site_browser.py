"""The attack of issue 8, replayed in headless Chromium: an operator is logged in to the
console, and a page of another origin on the same machine (same site: the session cookie goes
along) posts a fire to HTTP ingest as a form and as no-cors fetches (one even asking for
application/json). The browser can send none of them as application/json, the form is refused
(415), no answer is readable by the page, and nothing is stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cityops.domain.access import Membership, Role
from cityops.services import accounts
from tests.browser.chromium import new_page
from tests.harness import LOOPBACK
from tests.harness.live_server import LiveServer
from tests.security.test_csp_browser import PASSWORD, browser, log_in
from tests.town import MUNI, TOWN_YAML

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Request

pytestmark = [pytest.mark.browser]
__all__ = ["browser"]  # the module-scoped Chromium fixture

ATTACK = """<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="{target}" enctype="text/plain" target="sink">
  <input name='{{"sensor": "river-1", "value": 3.9, "x": "' value='"}}'>
</form>
<script>
  const target = "{target}";
  document.getElementById("f").submit();
  const fire = '{{"sensor": "river-1", "value": 3.9}}';
  const post = (init) => fetch(target, {{method: "POST", mode: "no-cors", credentials: "include",
                                        ...init}});
  Promise.allSettled([
    post({{body: fire}}),
    post({{body: new Blob([fire], {{type: "application/json"}})}}),
    post({{headers: {{"Content-Type": "application/json"}}, body: fire}}),
  ]).then((done) => {{ document.title = "sent " + done.map((d) => d.status).join(); }});
</script></body></html>"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path, None, [TOWN_YAML]) as running:
        assert running.center is not None
        now = datetime.now(UTC)
        with running.center.db.begin() as conn:
            uid = accounts.create_user(
                conn,
                username="csp",
                display_name="Operator On Duty",
                password=PASSWORD,
                installation_admin=False,
                now=now,
            )
            membership = Membership(MUNI, Role.ADMIN, None, None, False)
            accounts.grant(conn, uid, membership, granted_by="test", now=now)
        yield running


@pytest.fixture
def attacker(server: LiveServer) -> Iterator[str]:
    """Another origin on the same machine serving the attack page."""
    page = ATTACK.format(target=server.api(f"/m/{MUNI}/readings")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_page_of_another_origin_cannot_post_to_ingest(
    browser: Browser, server: LiveServer, attacker: str
) -> None:
    page, _ = new_page(browser)
    try:
        log_in(page, server)
        sent: list[Request] = []
        page.on("request", lambda r: sent.append(r) if r.method == "POST" else None)
        page.goto(attacker)
        page.wait_for_function("document.title.startsWith('sent')")
        page.wait_for_timeout(1500)
        shapes = []
        for request in sent:
            response = request.response()
            headers = request.all_headers()
            shapes.append(
                (
                    headers.get("content-type", "none"),
                    "cookie" in headers,
                    None if response is None else response.status,
                )
            )
        assert page.title() == "sent rejected,rejected,rejected", "no answer is readable there"
        assert len(shapes) == 4, "the form and the three fetches were sent"
        assert not [t for t, _, _ in shapes if t.startswith("application/json")], shapes
        # the form went with the session cookie (same site) and was refused for its type; the
        # fetches' answers are withheld from the page (Cross-Origin-Resource-Policy)
        assert ("text/plain", True, 415) in shapes
        readings = page.context.request.get(server.api(f"/m/{MUNI}/sensors/river-1/readings"))
        assert readings.status == 200
        assert readings.json() == [], f"a cross-site post was stored: {shapes}"
    finally:
        page.context.close()
