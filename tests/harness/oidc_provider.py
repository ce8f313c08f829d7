"""A real OpenID Connect provider on loopback: panva's certified ``oidc-provider`` (pinned in
tests/oidc_op/package.json + lockfile, installed by ``make test`` with ``npm ci``), run by Node.js
from tests/oidc_op/server.mjs.

Plain Python, like the other servers here::

    with OidcProvider(clients=[...], accounts={...}) as op:
        op.issuer  # http://127.0.0.1:<port>
        op.sign_in(http, authorization_url, "ivanova", "secret")  # -> the redirect to the RP
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import urljoin

import httpx

from tests.harness.process import Running

OP_DIR = Path(__file__).resolve().parent.parent / "oidc_op"
MISSING = (
    "the test identity provider is not installed: run `make test` "
    "(or `cd tests/oidc_op && npm ci --ignore-scripts`)"
)


def unavailable_reason() -> str | None:
    """Why the provider cannot run here (None: it can)."""
    if shutil.which("node") is None:
        return "node not found: apt-get install nodejs (or run `make test`)"
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        return MISSING
    return None


class OidcProvider(Running):
    def __init__(
        self,
        *,
        clients: Sequence[Mapping[str, Any]],
        accounts: Mapping[str, Mapping[str, Any]],
        start_timeout: float = 20.0,
    ) -> None:
        self.clients = list(clients)
        self.accounts = dict(accounts)
        self.start_timeout = start_timeout
        self.issuer = ""
        self._proc: subprocess.Popen[str] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._log: list[str] = []

    def start(self) -> Self:
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        self._dir = tempfile.TemporaryDirectory(prefix="cityops-op-")
        config = Path(self._dir.name) / "op.json"
        config.write_text(
            json.dumps({"port": 0, "clients": self.clients, "accounts": self.accounts}),
            encoding="utf-8",
        )
        self._proc = subprocess.Popen(
            ["node", str(OP_DIR / "server.mjs"), str(config)],
            cwd=OP_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()

        def read() -> None:
            assert self._proc is not None
            assert self._proc.stdout is not None
            for line in self._proc.stdout:
                self._log.append(line.rstrip())
                if line.startswith("ready "):
                    self.issuer = line.split()[1]
                    ready.set()

        threading.Thread(target=read, name="oidc-op-log", daemon=True).start()
        if not ready.wait(self.start_timeout):
            self.stop()
            raise RuntimeError(f"the identity provider did not start: {self._log}")
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    @property
    def log(self) -> list[str]:
        return list(self._log)

    def sign_in(self, http: httpx.Client, authorization_url: str, login: str, password: str) -> str:
        """As a browser would: open the authorization URL, fill in the provider's login form,
        follow its redirects; returns the URL it finally sends the browser to (the RP's
        callback with code and state, or an error). ``http`` keeps the provider's cookies."""
        resp = http.get(authorization_url)
        while resp.is_redirect and resp.headers["location"].startswith(("/", self.issuer)):
            resp = http.get(urljoin(self.issuer, resp.headers["location"]))
        if resp.status_code != 200 or "/interaction/" not in str(resp.url):
            return str(resp.headers.get("location", resp.url))
        form = str(resp.url).rstrip("/") + "/login"
        resp = http.post(form, data={"login": login, "password": password})
        while resp.is_redirect:
            target = urljoin(self.issuer, resp.headers["location"])
            if not target.startswith(self.issuer):
                return target
            resp = http.get(target)
        raise AssertionError(f"the provider did not redirect back: {resp.status_code} {resp.text}")
