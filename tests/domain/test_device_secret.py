"""Device secrets and their stored form: Mosquitto's own ``$7$`` PBKDF2-SHA512 (checked against
the real ``mosquitto_passwd`` when it is installed), and a parser that refuses anything else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.device_secret import (
    BadHashError,
    hash_secret,
    new_secret,
    parse_hash,
    verify,
)


def test_a_secret_verifies_against_its_hash_and_nothing_else() -> None:
    secret = new_secret()
    assert len(secret) >= 43  # 32 random bytes
    stored = hash_secret(secret)
    assert stored.startswith("$7$1000$")
    assert verify(secret, stored)
    assert not verify(secret + "x", stored)
    assert not verify(secret, hash_secret(secret).replace("$7$1000$", "$7$1001$"))
    assert hash_secret(secret) != stored  # a fresh salt each time


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40), st.binary(min_size=1, max_size=16), st.integers(1, 50))
def test_the_stored_form_round_trips(secret: str, salt: bytes, iterations: int) -> None:
    stored = hash_secret(secret, salt=salt, iterations=iterations)
    parts = parse_hash(stored)
    assert (parts.salt, parts.iterations) == (salt, iterations)
    assert parts.encode() == stored
    assert verify(secret, stored)


@given(st.text(alphabet=st.characters(), max_size=30))
def test_any_password_is_checked_without_error(password: str) -> None:
    """Surrogates included: a login attempt is answered, never raises."""
    assert verify(password, hash_secret(password, iterations=1))
    assert not verify(password + "\udcff", hash_secret(password, iterations=1))


@given(st.text(max_size=300))
def test_anything_else_is_refused_by_the_parser(text: str) -> None:
    try:
        parts = parse_hash(text)
    except BadHashError:
        assert not verify("x", text)
        return
    assert len(parts.digest) == 64
    assert parts.salt


@pytest.mark.parametrize(
    "text",
    [
        "",
        "$6$abc$def",
        "$7$0$c2FsdA==$" + "A" * 88,
        "$7$99999999$c2FsdA==$" + "A" * 88,
        "$7$101$c2FsdA==$c2hvcnQ=",
        "$7$101$!!!$" + "A" * 88,
    ],
)
def test_malformed_hashes(text: str) -> None:
    with pytest.raises(BadHashError):
        parse_hash(text)


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="mosquitto not installed")
def test_mosquittos_own_hashes_verify(tmp_path: Path) -> None:
    """A hash written by mosquitto_passwd (the broker's reader) is the form we store."""
    path = tmp_path / "passwd"
    path.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(path), "gw", "s3cret-ÄÖ"], check=True, timeout=30)
    stored = path.read_text().strip().split(":", 1)[1]
    assert stored.startswith("$7$")
    assert verify("s3cret-ÄÖ", stored)
    assert not verify("s3cret", stored)
