"""Outside input: the acknowledgment body and the signature headers (Hypothesis), the retry
schedule, and the YAML's dispatch block."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cityops.config.schema_dispatch import AgencyDispatchModel
from cityops.dispatch import signing
from cityops.dispatch.callback import MAX_BODY_BYTES, Ack, AckRejectedError, decode_ack
from cityops.domain.dispatch import RetryPolicy

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=2000))
def test_any_bytes_decode_or_are_refused_with_a_reason(body: bytes) -> None:
    try:
        ack = decode_ack(body)
    except AckRejectedError as err:
        reason = str(err)
        assert reason
        return
    assert isinstance(ack, Ack)


LIMITS = {"reference": 200, "note": 2000, "by": 200}


@given(json_values)
def test_any_json_decodes_exactly_when_it_is_an_acknowledgment(value: object) -> None:
    acceptable = isinstance(value, dict) and all(
        value.get(k) is None or (isinstance(value.get(k), str) and len(value[k]) <= limit)
        for k, limit in LIMITS.items()
    )
    try:
        decode_ack(json.dumps(value).encode())
    except AckRejectedError:
        assert not acceptable
    else:
        assert acceptable


@given(
    st.text(max_size=200),
    st.text(max_size=2000),
    st.dictionaries(st.text().filter(lambda k: k not in ("reference", "note", "by")), json_values),
)
def test_fields_come_back_cleaned_and_unknown_fields_are_ignored(
    reference: str, note: str, extra: dict[str, object]
) -> None:
    ack = decode_ack(json.dumps({**extra, "reference": reference, "note": note}).encode())
    for given_text, got in ((reference, ack.reference), (note, ack.note)):
        if got is not None:
            assert got == got.strip()
            assert len(got) <= len(given_text)
            assert all(ch.isprintable() or ch in "\n\t" for ch in got)


def test_oversized_and_wrongly_typed_bodies_are_refused() -> None:
    with pytest.raises(AckRejectedError, match="too large"):
        decode_ack(b" " * (MAX_BODY_BYTES + 1))
    with pytest.raises(AckRejectedError, match="reference must be a string"):
        decode_ack(b'{"reference": 5}')
    with pytest.raises(AckRejectedError, match="longer than 200"):
        decode_ack(json.dumps({"by": "x" * 201}).encode())
    assert decode_ack(b"") == Ack()
    assert decode_ack(b'{"reference": " A-1 \\u0000"}') == Ack(reference="A-1")


@given(st.one_of(st.none(), st.text(max_size=30)), st.one_of(st.none(), st.text(max_size=80)))
def test_arbitrary_headers_never_verify_and_never_crash(stamp: str | None, sig: str | None) -> None:
    with pytest.raises(signing.SignatureError):
        signing.verify(b"0123456789abcdef", stamp, sig, b"{}", time.time())


@given(st.binary(max_size=500), st.integers(min_value=0, max_value=499))
def test_a_signature_covers_every_byte(body: bytes, where: int) -> None:
    secret = b"0123456789abcdef0123"
    now = int(time.time())
    sig = signing.sign(secret, now, body)
    assert signing.verify(secret, str(now), sig, body, now).signature == sig
    if body:
        i = where % len(body)
        changed = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
        with pytest.raises(signing.SignatureError, match="bad signature"):
            signing.verify(secret, str(now), sig, changed, now)
    with pytest.raises(signing.SignatureError, match="stale"):
        signing.verify(secret, str(now), sig, body, now + 301)


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=1))
def test_backoff_grows_is_capped_and_jittered(attempt: int, jitter: float) -> None:
    policy = RetryPolicy(max_attempts=8, base_s=5, cap_s=900)
    ceiling = min(900.0, 5.0 * 2 ** (attempt - 1))
    assert ceiling / 2 <= policy.delay_s(attempt, jitter) <= ceiling
    assert policy.delay_s(attempt, 0.0) <= policy.delay_s(attempt + 1, 0.0)


def test_the_yaml_names_a_secret_never_holds_one() -> None:
    ok = AgencyDispatchModel(webhook_url="https://cad.example/in", secret_env="FIRE_SECRET")
    assert ok.to_domain("fire").secret_env == "FIRE_SECRET"
    with pytest.raises(ValidationError, match="exactly one of secret_env or secret_file"):
        AgencyDispatchModel(webhook_url="https://cad.example/in")
    with pytest.raises(ValidationError, match="Extra inputs"):
        AgencyDispatchModel.model_validate(
            {"webhook_url": "https://cad.example/in", "secret": "plain-text-secret"}
        )
    with pytest.raises(ValidationError, match="environment variable name"):
        AgencyDispatchModel(webhook_url="https://cad.example/in", secret_env="lower; rm -rf")
    with pytest.raises(ValidationError, match="webhook_url or email_to"):
        AgencyDispatchModel()
