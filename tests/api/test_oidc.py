"""Single sign-on against a real OpenID Connect provider on loopback (panva's certified
``oidc-provider``, tests/oidc_op): the whole authorization code flow with PKCE through the
CityOps API, the claims mapped to an account and its memberships, and each refusal: a state
that is not this browser's, a replayed callback, a nonce that is not the login's, a person whose
groups give no role, a provider account that would take over a local account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Role
from cityops.domain.audit import INSTALLATION_CHAIN
from cityops.services import accounts, sessions
from cityops.store import access_repo, audit_repo
from cityops.store.tables_access import users
from tests.harness.oidc_provider import OidcProvider, unavailable_reason
from tests.town import MUNI, start_center

PROVIDER = "town-idp"
CALLBACK = f"http://testserver/api/v1/auth/oidc/{PROVIDER}/callback"
SECRET = "a-client-secret-only-for-these-tests"

ACCOUNTS = {
    "ivanova": {
        "password": "ivanova-password",
        "claims": {"name": "Мария Иванова", "groups": ["cityops-operators", "canteen"]},
    },
    "petrov": {
        "password": "petrov-password",
        "claims": {"name": "Петър Петров", "groups": ["police"]},
    },
    "ghost": {"password": "ghost-password", "claims": {"name": "Nobody", "groups": ["canteen"]}},
    "admin": {"password": "admin-password", "claims": {"groups": ["cityops-operators"]}},
}

CONFIG = """
providers:
  - id: {provider}
    title: {{bg: Тестова община, en: Test town}}
    issuer: {issuer}
    client_id: cityops
    client_secret_env: CITYOPS_TEST_OIDC_SECRET
    username_prefix: "town."
    roles:
      - {{group: cityops-supervisors, municipality: {muni}, role: supervisor}}
      - {{group: cityops-operators, municipality: {muni}, role: operator}}
      - {{group: police, municipality: {muni}, role: liaison, agency: police}}
"""


@pytest.fixture(scope="module")
def op() -> Iterator[OidcProvider]:
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
        pytest.skip(reason)
    client = {"client_id": "cityops", "client_secret": SECRET, "redirect_uris": [CALLBACK]}
    with OidcProvider(clients=[client], accounts=ACCOUNTS) as provider:
        yield provider


@pytest.fixture
def center(
    tmp_path: Path, op: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ControlCenter]:
    config = tmp_path / "oidc.yaml"
    config.write_text(
        CONFIG.format(provider=PROVIDER, issuer=op.issuer, muni=MUNI), encoding="utf-8"
    )
    monkeypatch.setenv("CITYOPS_TEST_OIDC_SECRET", SECRET)
    cc = start_center(tmp_path, with_mqtt=False, oidc_config=config, session_cookie_secure=False)
    yield cc
    cc.stop()


@pytest.fixture
def client(center: ControlCenter) -> Iterator[TestClient]:
    with TestClient(create_api(center)) as c:
        yield c


def begin(client: TestClient, next_path: str = "/") -> str:
    """The console's "sign in with ..." link: the provider's authorization URL."""
    resp = client.get(
        f"/api/v1/auth/oidc/{PROVIDER}/login", params={"next": next_path}, follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    assert "cityops_oidc" in resp.cookies
    return str(resp.headers["location"])


def at_provider(op: OidcProvider, url: str, login: str) -> str:
    """Sign in at the provider as a browser would; the callback URL it sends back."""
    with httpx.Client() as browser:
        back = op.sign_in(browser, url, login, ACCOUNTS[login]["password"])  # type: ignore[arg-type]
    assert back.startswith(CALLBACK), back
    return back


def finish(client: TestClient, callback: str) -> httpx.Response:
    parts = urlsplit(callback)
    resp: httpx.Response = client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    return resp


def sso_error(resp: httpx.Response) -> str | None:
    assert resp.status_code == 303, resp.text
    location = resp.headers["location"]
    return location.split("#sso-error=", 1)[1] if "#sso-error=" in location else None


def user(center: ControlCenter, username: str) -> access_repo.UserRow | None:
    with center.db.connect() as conn:
        return access_repo.user_by_name(conn, username)


def test_provider_listed_for_the_login_screen(client: TestClient) -> None:
    resp = client.get("/api/v1/auth/oidc/providers")
    assert resp.status_code == 200
    assert resp.json() == [{"id": PROVIDER, "title": {"bg": "Тестова община", "en": "Test town"}}]


def test_code_flow_opens_a_console_session_with_mapped_roles(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    url = begin(client, "/#incident=7")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(op.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert all(query[key][0] for key in ("nonce", "state", "code_challenge"))

    resp = finish(client, at_provider(op, url, "ivanova"))
    assert sso_error(resp) is None
    assert resp.headers["location"] == "/#incident=7"
    cookie = resp.cookies.get("cityops_session")
    assert cookie

    with center.db.begin() as conn:
        found = sessions.principal_for_session(conn, cookie, now=datetime.now(UTC), idle_s=3600)
    assert found is not None
    principal, csrf = found
    assert csrf
    assert principal.username == "town.ivanova"
    assert principal.display_name == "Мария Иванова"
    assert principal.via == "oidc"
    assert not principal.installation_admin
    # "cityops-operators" gives operator; "canteen" is no rule's group and gives nothing
    assert set(principal.memberships) == {MUNI}
    membership = principal.memberships[MUNI]
    assert membership.role is Role.OPERATOR
    assert membership.expires_at is not None  # renewed at each login, ends without one

    row = user(center, "town.ivanova")
    assert row is not None
    assert row.password_hash is None  # no password login for a single sign-on account
    assert row.sso_subject == f"{PROVIDER}|ivanova"

    # a second login finds the same account (by provider and subject), not a new one
    again = finish(client, at_provider(op, begin(client), "ivanova"))
    assert sso_error(again) is None
    with center.db.connect() as conn:
        names = conn.execute(select(users.c.username)).scalars().all()
    assert names.count("town.ivanova") == 1


def test_liaison_group_gives_its_agency(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    resp = finish(client, at_provider(op, begin(client), "petrov"))
    assert sso_error(resp) is None
    row = user(center, "town.petrov")
    assert row is not None
    with center.db.connect() as conn:
        memberships = access_repo.memberships_of(conn, row.id)
    assert memberships[MUNI].role is Role.LIAISON
    assert memberships[MUNI].agency == "police"


def test_unknown_group_gets_no_membership(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    resp = finish(client, at_provider(op, begin(client), "ghost"))
    assert sso_error(resp) == "no_role"
    assert "cityops_session" not in resp.cookies
    assert user(center, "town.ghost") is None


def test_state_not_this_browsers_is_refused(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    callback = at_provider(op, begin(client), "ivanova")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    # a state changed on the way back (also one no ASCII comparison can take)
    for wrong in ("forged-state", "състояние"):
        forged = urlunsplit(parts._replace(query=urlencode({**query, "state": wrong})))
        assert sso_error(finish(client, forged)) == "state"

    # the right callback, but in another browser (no binding cookie): login CSRF
    with TestClient(create_api(center)) as other:
        resp = finish(other, callback)
        assert sso_error(resp) == "state"
        assert "cityops_session" not in resp.cookies

    # the forged attempt did not consume the login: the real browser still completes it
    first = finish(client, callback)
    assert sso_error(first) is None
    # and a replayed callback is refused: a state is used once
    client.cookies.set("cityops_oidc", query["state"], path="/api/v1/auth/oidc")
    replay = finish(client, callback)
    assert sso_error(replay) == "state"


def test_nonce_not_the_logins_is_refused(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    url = begin(client)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    # the provider is asked with another nonce (as with an authorization request replayed by an
    # attacker): the ID token carries it, the state and PKCE are right, and CityOps refuses
    tampered = urlunsplit(parts._replace(query=urlencode({**query, "nonce": "another-nonce"})))
    resp = finish(client, at_provider(op, tampered, "ivanova"))
    assert sso_error(resp) == "nonce"
    assert "cityops_session" not in resp.cookies
    assert user(center, "town.ivanova") is None


def test_provider_cannot_take_over_a_local_account(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    with center.db.begin() as conn:
        accounts.create_user(
            conn,
            username="town.admin",
            display_name="Local admin",
            password="a-local-password-123",
            installation_admin=True,
            now=datetime.now(UTC),
        )
    resp = finish(client, at_provider(op, begin(client), "admin"))
    assert sso_error(resp) == "username_taken"
    assert "cityops_session" not in resp.cookies


def test_unknown_provider_and_open_redirect(client: TestClient, op: OidcProvider) -> None:
    resp = client.get("/api/v1/auth/oidc/nobody/login", follow_redirects=False)
    assert sso_error(resp) == "provider"
    resp = client.get(
        f"/api/v1/auth/oidc/{PROVIDER}/login",
        params={"next": "//evil.example/"},
        follow_redirects=False,
    )
    state = parse_qs(urlsplit(resp.headers["location"]).query)["state"][0]
    pending = client.app.state.oidc.take(PROVIDER, state, state)  # type: ignore[attr-defined]
    assert pending.next_path == "/"


def logins(center: ControlCenter) -> list[tuple[str, str, str | None]]:
    """(action, actor, reason) of the installation chain's login records, in order."""
    with center.db.connect() as conn:
        return [
            (r.action, r.actor, r.reason)
            for r in audit_repo.chain_records(conn, INSTALLATION_CHAIN)
            if r.action in ("login", "login.failed")
        ]


def test_logins_and_refusals_are_audited(
    client: TestClient, center: ControlCenter, op: OidcProvider
) -> None:
    assert sso_error(finish(client, at_provider(op, begin(client), "ivanova"))) is None
    assert sso_error(finish(client, at_provider(op, begin(client), "ghost"))) == "no_role"
    # a callback that no login of this browser began is noise anyone can send: logged, not audited
    resp = client.get(
        f"/api/v1/auth/oidc/{PROVIDER}/callback",
        params={"code": "x", "state": "y"},
        follow_redirects=False,
    )
    assert sso_error(resp) == "state"
    assert logins(center) == [
        ("login", "town.ivanova", None),
        ("login.failed", f"sso:{PROVIDER}", "no_role"),
    ]


def test_provider_decides_only_its_own_municipalities(
    center: ControlCenter, op: OidcProvider
) -> None:
    """Memberships follow the groups at each login: a group gone at the provider takes the role
    away; a membership in a municipality the provider has no rule for is left alone."""
    from cityops.domain.access import Membership
    from cityops.domain.sso import GroupRule, SsoIdentity
    from cityops.services.oidc import provision
    from cityops.services.oidc_config import load_oidc_config

    assert center.settings.oidc_config is not None
    provider = load_oidc_config(center.settings.oidc_config).providers[0]
    now = datetime.now(UTC)
    supervisor = GroupRule("cityops-supervisors", MUNI, Role.SUPERVISOR)
    with center.db.begin() as conn:
        uid = provision(
            conn, provider, SsoIdentity("s-9", "town.dimitrova", "Д", {MUNI: supervisor}), now
        )
        accounts.grant(
            conn,
            uid,
            Membership("elsewhere", Role.ANALYST, None, None, False),
            granted_by="admin",
            now=now,
        )
    with center.db.begin() as conn:
        again = provision(conn, provider, SsoIdentity("s-9", "town.dimitrova", "Д", {}), now)
        memberships = access_repo.memberships_of(conn, uid)
    assert again == uid
    assert set(memberships) == {"elsewhere"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("providers: [{id: x}]", "issuer"),
        (CONFIG.format(provider="Bad Id", issuer="https://idp.example", muni=MUNI), "id"),
        (
            CONFIG.format(provider=PROVIDER, issuer="https://idp.example", muni=MUNI),
            "CITYOPS_TEST_OIDC_SECRET",
        ),
        ("providers: [", "while parsing"),
    ],
)
def test_a_bad_configuration_stops_the_start_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, says: str
) -> None:
    from cityops.services.oidc_config import load_oidc_config

    monkeypatch.delenv("CITYOPS_TEST_OIDC_SECRET", raising=False)
    path = tmp_path / "oidc.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=says) as refused:
        load_oidc_config(path)
    assert str(path) in str(refused.value)


def test_a_liaison_rule_needs_its_agency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cityops.services.oidc_config import load_oidc_config

    monkeypatch.setenv("CITYOPS_TEST_OIDC_SECRET", SECRET)
    text = CONFIG.format(provider=PROVIDER, issuer="https://idp.example", muni=MUNI)
    path = tmp_path / "oidc.yaml"
    path.write_text(text.replace(", agency: police", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="a liaison rule names its agency"):
        load_oidc_config(path)
