"""The authorization matrix: every route of the application x every role x its own and another
municipality x anonymous, each allowed or refused as :data:`EXPECTED` says.

:data:`EXPECTED` is the specification, written here by hand and independent of
``domain/access.py``'s mapping: if the code's table drifts from it, this fails. The routes are
taken from the application's own route table, so a route without an entry here fails the suite
(``test_every_route_has_an_entry``): whoever adds a route adds its row.

Rows: ``PUBLIC`` (anyone, without a login), ``LOGIN`` (any logged-in account), ``SIGNED`` (no
login counts: the request's own signature or one-time token; without it 401 for everyone), or the
set of who may: role names (a member of the test town with that role) and ``INSTALL`` (an
installation admin without any membership). On a route under ``/m/{mid}``:

- anonymous -> 401;
- a member whose role is listed -> allowed (past authorization: any answer but 401/403 and the
  404 of an unknown municipality); a member whose role is not listed -> 403;
- every member asking for the neighbouring municipality, and the installation admin anywhere
  -> 404, exactly as for a municipality that does not exist.

On an installation-wide route (no ``{mid}``): a listed role or ``INSTALL`` -> allowed, others 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Role
from tests.api.test_incidents_api import raise_flood
from tests.town import MUNI, NEIGHBOUR, account, neighbour_yaml, start_center

PUBLIC = "public"
SIGNED = "signed"
"""No login: the request's own signature or one-time token decides; without it every caller,
logged in or not, in any municipality, gets 401 (tests/dispatch check the signed path)."""
LOGIN = "login"
INSTALL = "installation_admin"

ADMIN, SUPERVISOR, OPERATOR = "admin", "supervisor", "operator"
LIAISON, ANALYST, AUDITOR = "liaison", "analyst", "auditor"
ROLES = (ADMIN, SUPERVISOR, OPERATOR, LIAISON, ANALYST, AUDITOR)

READ = frozenset({ADMIN, SUPERVISOR, OPERATOR, LIAISON, ANALYST})
"""Incidents and sources: everyone but the auditor (a liaison only its agency's: see
test_access_scope.py)."""
ACT = frozenset({ADMIN, SUPERVISOR, OPERATOR})
NOTE = ACT | {LIAISON}
HANDOVER = frozenset({ADMIN, SUPERVISOR})
VIDEO = frozenset({ADMIN, SUPERVISOR, OPERATOR, LIAISON})
SYSTEM = frozenset({ADMIN, SUPERVISOR, OPERATOR, ANALYST})
INGEST = frozenset({ADMIN, SUPERVISOR})
DEAD_LETTERS = frozenset({ADMIN, SUPERVISOR})
AUDIT = frozenset({ADMIN, AUDITOR})
USERS = frozenset({ADMIN})
ADMIN_ONLY = frozenset({ADMIN})
PUBLISH = frozenset({ADMIN, SUPERVISOR})
"""Public warnings (CAP) out: warnings.publish."""

M = "/api/v1/m/{mid}"
INC = f"{M}/incidents/{{incident_id}}"

Rule = str | frozenset[str]

EXPECTED: dict[tuple[str, str], Rule] = {
    # the API's own description
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # accounts (A)
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): LOGIN,
    ("GET", "/api/v1/auth/me"): LOGIN,
    ("GET", f"{M}/users"): USERS,
    ("PUT", f"{M}/users/{{username}}"): USERS,
    ("DELETE", f"{M}/users/{{username}}"): USERS,
    # single sign-on (B): the way in, so public
    ("GET", "/api/v1/auth/oidc/providers"): PUBLIC,
    ("GET", "/api/v1/auth/oidc/{provider}/login"): PUBLIC,
    ("GET", "/api/v1/auth/oidc/{provider}/callback"): PUBLIC,
    # the installation
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/config"): LOGIN,  # lists only the caller's municipalities
    ("GET", "/api/v1/metrics"): SYSTEM | {INSTALL},  # counters only, no content
    ("GET", "/api/v1/dead-letters"): frozenset({INSTALL}),  # raw payloads of no municipality
    ("GET", "/api/v1/audit"): frozenset({INSTALL}),  # the installation's chain: logins (C)
    ("GET", f"{M}/overview"): SYSTEM,
    ("GET", f"{M}/basemap"): READ,
    # incidents
    ("GET", f"{M}/incidents"): READ,
    ("GET", INC): READ,
    ("POST", f"{INC}/cancel"): ACT,
    ("POST", f"{INC}/assign"): ACT,
    ("POST", f"{INC}/sop/{{step_id}}"): ACT,
    ("POST", f"{INC}/{{action}}"): ACT,
    ("POST", f"{INC}/notes"): NOTE,
    ("POST", f"{INC}/handover"): HANDOVER,
    # sources
    ("GET", f"{M}/sensors"): READ,
    ("GET", f"{M}/sensors/{{sensor_id}}/readings"): READ,
    ("GET", f"{M}/cameras"): READ,
    ("GET", f"{M}/agencies"): READ,
    ("GET", f"{M}/key-objects"): READ,
    # the live feed
    ("GET", f"{M}/live"): READ,
    # ingest (E)
    ("POST", f"{M}/readings"): INGEST,
    ("POST", f"{M}/cameras/{{camera_id}}/events"): INGEST,
    ("GET", f"{M}/dead-letters"): DEAD_LETTERS,
    # video and evidence (F)
    ("GET", f"{M}/cameras/{{camera_id}}/snapshot"): VIDEO,
    ("GET", f"{M}/cameras/{{camera_id}}/live.mjpg"): VIDEO,
    ("GET", f"{INC}/evidence"): VIDEO,
    ("GET", f"{M}/evidence/{{event_id}}/snapshot.jpg"): VIDEO,
    ("GET", f"{M}/evidence/{{event_id}}/clip.mp4"): VIDEO,
    # audit and retention (C)
    ("GET", f"{M}/audit"): AUDIT,
    ("GET", f"{M}/retention"): ADMIN_ONLY,
    # public warnings in force (J, docs/CAP.md)
    ("GET", f"{M}/warnings"): READ,
    ("POST", f"{M}/cap/alerts"): INGEST,
    # public warnings out: publishing from an incident; CityOps's CAP feed and messages are public
    ("POST", f"{M}/cap/messages"): PUBLISH,
    ("GET", f"{M}/cap/feed.xml"): PUBLIC,
    ("GET", f"{M}/cap/{{identifier}}.xml"): PUBLIC,
    ("GET", f"{INC}/cap"): READ,  # the incident's CAP messages and their deliveries (C)
    # camera network plans (I)
    ("GET", f"{M}/plans"): READ,
    ("GET", f"{M}/plans/{{plan_id}}"): READ,
    # dispatch out (K): agencies answer with a signature or a reply link's token, never a login
    ("POST", f"{M}/dispatch/{{delivery_id}}/ack"): SIGNED,
    ("GET", f"{M}/dispatch/{{delivery_id}}/reply"): SIGNED,
    ("POST", f"{M}/dispatch/{{delivery_id}}/reply"): SIGNED,
    ("GET", f"{INC}/deliveries"): READ,
    # location requests from agency systems (L): a liaison account's token, its agency's requests
    ("POST", f"{M}/agency/requests"): frozenset({LIAISON}),
    # agency shares (S): operators with shares.manage; recipients by the link's token (cookie)
    ("POST", f"{INC}/shares"): ACT,
    ("GET", f"{INC}/shares"): ACT,
    ("POST", f"{M}/shares"): ACT,
    ("GET", f"{M}/shares"): ACT,
    ("POST", f"{M}/shares/{{share_id}}/extend"): ACT,
    ("POST", f"{M}/shares/{{share_id}}/revoke"): ACT,
    ("POST", f"{M}/shares/{{share_id}}/link"): ACT,
    ("GET", f"{M}/sharing"): ACT,
    ("POST", "/api/v1/share-access"): SIGNED,
    ("GET", "/api/v1/share-access"): SIGNED,
    ("GET", "/api/v1/share-access/cameras/{camera_id}/snapshot.jpg"): SIGNED,
    ("GET", "/api/v1/share-access/cameras/{camera_id}/live.mjpg"): SIGNED,
    ("GET", "/api/v1/share-access/basemap"): SIGNED,
    ("GET", "/api/v1/share-access/status"): SIGNED,
    ("GET", f"{M}/agency/shares"): VIDEO,  # a liaison's: the active shares with its agency
    # vulnerable people (V): the registry persons.manage, seeing one persons.view (audited),
    # their devices ingest.write, the forward to police shares.manage
    ("GET", f"{M}/persons"): ACT,
    ("POST", f"{M}/persons"): HANDOVER,
    ("PUT", f"{M}/persons/{{person_id}}"): HANDOVER,
    ("DELETE", f"{M}/persons/{{person_id}}"): HANDOVER,
    ("GET", f"{M}/persons/{{person_id}}"): ACT,
    ("PUT", f"{M}/persons/{{person_id}}/photo"): HANDOVER,
    ("GET", f"{M}/persons/{{person_id}}/photo.jpg"): ACT,
    ("GET", f"{M}/persons/{{person_id}}/track"): ACT,
    ("GET", f"{INC}/person"): ACT,
    ("GET", f"{INC}/person/track"): ACT,
    ("POST", f"{INC}/person/forward"): ACT,
    ("POST", f"{M}/persons/{{device}}/position"): INGEST,
    ("POST", f"{M}/persons/{{device}}/sos"): INGEST,
}
"""The matrix. Add your route's row here (one line) when you add a route."""

ENDLESS = re.compile(r"/live(\.mjpg)?$")
"""Responses that never end when allowed: read their status, then hang up."""
LIAISON_AGENCY = "civil-protection"
TARGET_USER = "matrix-target"


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the application answers (not the console's files)."""
    found = set()
    for context in iter_route_contexts(app.routes):
        methods = getattr(context, "methods", None) or set()
        for method in methods - {"HEAD", "OPTIONS"}:
            found.add((method, context.path))
    return found


@dataclass
class Town:
    app: FastAPI
    center: ControlCenter
    tokens: dict[str, str]
    """A bearer token per role (members of the test town only) and for INSTALL."""
    incident_id: int


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    data = tmp_path_factory.mktemp("matrix")
    center = start_center(data, with_mqtt=False, also=[neighbour_yaml(data)])
    try:
        db = center.db
        tokens = {
            role: account(
                db,
                f"m-{role}",
                display_name=f"Matrix {role}",
                role=Role(role),
                installation_admin=False,
                agency=LIAISON_AGENCY if role == LIAISON else None,
                expires_at=datetime.now(UTC) + timedelta(days=1) if role == LIAISON else None,
            )
            for role in ROLES
        }
        tokens[INSTALL] = account(db, "m-install", role=None, installation_admin=True)
        account(db, TARGET_USER, role=Role.ANALYST, installation_admin=False)
        app = create_api(center)
        with TestClient(app) as client:  # an open flood, assigned to the liaison's agency
            client.headers["Authorization"] = f"Bearer {tokens[ADMIN]}"
            incident_id = raise_flood(client)["id"]
            url = f"/api/v1/m/{MUNI}/incidents/{incident_id}"
            assert client.post(f"{url}/acknowledge").status_code == 200
            assert client.post(f"{url}/assign", json={"agency": LIAISON_AGENCY}).status_code == 200
        yield Town(app, center, tokens, incident_id)
    finally:
        center.stop()


def concrete(path: str, mid: str, incident_id: int) -> str:
    values = {
        "mid": mid,
        "incident_id": str(incident_id),
        "step_id": "verify",
        "action": "on-scene",
        "sensor_id": "river-1",
        "camera_id": "cam-b",
        "event_id": "no-such-event",
        "provider": "no-such-provider",
        "username": TARGET_USER,
        "plan_id": "1",
        "delivery_id": "1",
        "identifier": "no-such-message",
        "share_id": "1",
        "person_id": "1",
        "device": "no-such-device",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def call(client: TestClient, method: str, url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
    if ENDLESS.search(url):
        with client.stream(method, url, headers=headers) as response:
            response.read() if response.status_code != 200 else None
            return response
    return client.request(method, url, headers=headers, json=body)


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))
    except (ValueError, AttributeError):
        return ""


def outcome(response: httpx.Response) -> str:
    """allowed, or why not: 401, 403, or 404 (an unknown municipality)."""
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code == 404 and _detail(response).startswith("unknown municipality"):
        return "404"
    return "allowed"


def test_every_route_has_an_entry(town: Town) -> None:
    routes = app_routes(town.app)
    missing = sorted(routes - EXPECTED.keys())
    assert not missing, f"routes without a row in EXPECTED (add one): {missing}"
    gone = sorted(EXPECTED.keys() - routes)
    assert not gone, f"rows for routes that no longer exist: {gone}"


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED), ids=str)
def test_route(town: Town, method: str, path: str) -> None:
    rule = EXPECTED[(method, path)]
    scoped = "{mid}" in path
    got: dict[str, str] = {}
    want: dict[str, str] = {}
    with TestClient(town.app) as client:
        own = concrete(path, MUNI, town.incident_id)
        got["anonymous"] = outcome(call(client, method, own, None))
        want["anonymous"] = "allowed" if rule == PUBLIC else "401"
        for who, token in town.tokens.items():
            got[who] = outcome(call(client, method, own, token))
            if rule == SIGNED:
                want[who] = "401"
            elif rule in (PUBLIC, LOGIN):
                want[who] = "allowed"
            elif scoped and who == INSTALL:
                want[who] = "404"  # no membership: the municipality does not exist for it
            else:
                want[who] = "allowed" if who in rule else "403"
            if scoped:
                other = concrete(path, NEIGHBOUR, town.incident_id)
                got[f"{who}@{NEIGHBOUR}"] = outcome(call(client, method, other, token))
                want[f"{who}@{NEIGHBOUR}"] = (
                    "401" if rule == SIGNED else "allowed" if rule in (PUBLIC, LOGIN) else "404"
                )
    assert got == want
