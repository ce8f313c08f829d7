"""``cityops users`` and ``cityops tokens`` on a real database file: the first admin, roles,
tokens printed once and stored as digests, revocation, and the audit of each change."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from cityops.cli import app
from cityops.domain.access import Role
from cityops.services import accounts, sessions, tokens
from cityops.store import access_repo
from cityops.store.db import make_engine
from cityops.store.tables_access import api_tokens, users
from cityops.store.tables_audit import audit_log

PASSWORD = "correct horse battery"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CITYOPS_DATABASE_URL", raising=False)
    return CliRunner()


def engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{(tmp_path / 'cityops.db').as_posix()}")


def invoke(runner: CliRunner, *args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_first_admin_with_a_prompted_password_then_a_token(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = invoke(
        runner,
        *("users", "create", "ivanova", "--display-name", "Мария Иванова"),
        *("--municipality", "testtown", "--role", "admin"),
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert "account ivanova created" in out
    db = engine(tmp_path)
    with db.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
        assert stored.startswith("$argon2id$")  # Argon2id, never the password itself
        assert PASSWORD not in stored
        assert accounts.verify_login(conn, "ivanova", PASSWORD) is not None
        assert accounts.verify_login(conn, "ivanova", PASSWORD + "x") is None
        user = access_repo.user_by_name(conn, "ivanova")
        assert user is not None
        assert access_repo.memberships_of(conn, user.id)["testtown"].role is Role.ADMIN

    printed = invoke(runner, "tokens", "create", "ivanova", "--name", "gateway")
    token = printed.strip().splitlines()[-1]
    assert token.startswith(tokens.TOKEN_PREFIX)
    now = datetime.now(UTC)
    with db.begin() as conn:
        digests = [r.digest for r in conn.execute(select(api_tokens))]
        assert digests == [hashlib.sha256(token.encode()).hexdigest()]  # only the digest kept
        found = tokens.principal_for_token(conn, token, now=now)
        assert found is not None
        assert found.display_name == "Мария Иванова"
    assert "gateway" in invoke(runner, "tokens", "list", "ivanova")
    invoke(runner, "tokens", "revoke", "1")
    with db.begin() as conn:
        assert tokens.principal_for_token(conn, token, now=now) is None
    assert runner.invoke(app, ["tokens", "revoke", "1"]).exit_code == 1  # already revoked
    db.dispose()


def test_mismatched_prompt_short_password_and_duplicates_are_refused(
    runner: CliRunner, tmp_path: Path
) -> None:
    create = ["users", "create", "petrov", "--display-name", "Petrov"]
    mismatch = runner.invoke(app, create, input=f"{PASSWORD}\nsomething else\n" * 3)
    assert mismatch.exit_code != 0
    short = tmp_path / "short.txt"
    short.write_text("tooshort\n", encoding="utf-8")
    refused = runner.invoke(app, [*create, "--password-file", str(short)])
    assert refused.exit_code == 2
    assert "at least 12" in refused.output
    good = tmp_path / "good.txt"
    good.write_text(PASSWORD + "\n", encoding="utf-8")
    invoke(runner, *create, "--password-file", str(good))
    again = runner.invoke(app, [*create, "--no-password"])
    assert again.exit_code == 2
    assert "exists" in again.output


def test_grant_revoke_and_list_are_audited(runner: CliRunner, tmp_path: Path) -> None:
    invoke(runner, "users", "create", "liaison1", "--display-name", "Fire liaison", "--no-password")
    no_end = runner.invoke(app, ["users", "grant", "liaison1", "testtown", "liaison"])
    assert no_end.exit_code == 2  # a liaison is limited in time and to an agency
    invoke(
        runner,
        *("users", "grant", "liaison1", "testtown", "liaison"),
        *("--agency", "civil-protection", "--expires", "2099-01-01T00:00:00+02:00"),
    )
    listed = invoke(runner, "users", "list")
    assert "testtown:liaison" in listed  # (the table may be cut to the terminal's width)
    invoke(runner, "users", "revoke", "liaison1", "testtown")
    assert runner.invoke(app, ["users", "revoke", "liaison1", "testtown"]).exit_code == 1
    db = engine(tmp_path)
    with db.connect() as conn:
        actions = [
            (r.action, r.municipality, r.target)
            for r in conn.execute(select(audit_log).order_by(audit_log.c.at))
        ]
    db.dispose()
    assert ("user.changed", None, "user:liaison1") in actions
    assert actions.count(("role.changed", "testtown", "user:liaison1")) == 2  # grant, revoke


def test_the_demo_account_gets_a_new_random_password_at_every_start(tmp_path: Path) -> None:
    from cityops.cli_users import demo_account
    from cityops.store.db import upgrade

    url = f"sqlite:///{(tmp_path / 'demo.db').as_posix()}"
    upgrade(url)
    db = make_engine(url)
    first = demo_account(db, "kazanlak")
    second = demo_account(db, "kazanlak")
    assert first[0] == second[0] == "demo"
    assert first[1] != second[1]
    assert len(second[1]) >= accounts.MIN_PASSWORD
    with db.begin() as conn:
        assert accounts.verify_login(conn, "demo", first[1]) is None  # the old one is gone
        user = accounts.verify_login(conn, "demo", second[1])
        assert user is not None
        assert access_repo.memberships_of(conn, user.id)["kazanlak"].role is Role.ADMIN
    db.dispose()


def test_a_disabled_account_loses_its_tokens_and_sessions_until_enabled(
    runner: CliRunner, tmp_path: Path
) -> None:
    good = tmp_path / "pw.txt"
    good.write_text(PASSWORD + "\n", encoding="utf-8")
    invoke(
        runner,
        "users",
        "create",
        "leaver",
        "--display-name",
        "Leaver",
        "--password-file",
        str(good),
    )
    token = invoke(runner, "tokens", "create", "leaver").strip().splitlines()[-1]
    db = engine(tmp_path)
    now = datetime.now(UTC)
    with db.begin() as conn:
        user = access_repo.user_by_name(conn, "leaver")
        assert user is not None
        session = sessions.open_session(conn, user.id, via="session", now=now, absolute_s=60)
    invoke(runner, "users", "disable", "leaver")
    with db.begin() as conn:
        assert tokens.principal_for_token(conn, token, now=now) is None
        assert sessions.principal_for_session(conn, session.cookie, now=now, idle_s=60) is None
        assert accounts.verify_login(conn, "leaver", PASSWORD) is None
    invoke(runner, "users", "disable", "leaver", "--enable")
    with db.begin() as conn:
        assert tokens.principal_for_token(conn, token, now=now) is not None
        assert accounts.verify_login(conn, "leaver", PASSWORD) is not None
        assert access_repo.session_by_digest(conn, accounts.digest(session.cookie)) is None
    db.dispose()
