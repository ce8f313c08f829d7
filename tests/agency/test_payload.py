"""The request decoder takes outside input: whatever the bytes, it answers a request or a
refusal with its reason (never another exception); valid requests come back as sent; the answer
topics it derives stay under the agency's own responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.agency_requests import (
    CASE,
    INVALID_CASE_LEVEL,
    LocationRequest,
    Refusal,
    RequestRefusedError,
    parse_request_topic,
    reply_topic_allowed,
    request_topic,
    response_topic,
    responses_root,
)
from cityops.domain.devices import filter_covers
from cityops.services.agency_payload import MAX_BYTES, decode_request, peek

cases = st.from_regex(CASE, fullmatch=True)
texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60).filter(
    lambda s: s.strip() == s
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def decode(raw: bytes) -> LocationRequest | RequestRefusedError:
    try:
        return decode_request(raw)
    except RequestRefusedError as err:
        return err


@settings(deadline=None)  # a loaded machine's pauses are not what these test
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_request_or_a_refusal(raw: bytes) -> None:
    got = decode(raw)
    assert isinstance(got, LocationRequest | RequestRefusedError)
    if isinstance(got, RequestRefusedError):
        assert 400 <= got.status < 500
        assert got.message
    case, _request_id = peek(raw)  # never raises either
    assert case is None or CASE.fullmatch(case)


@settings(deadline=None)  # a loaded machine's pauses are not what these test
@given(
    st.dictionaries(
        st.sampled_from(["case", "type", "lon", "lat", "agency", "note", "request_id", "x"]),
        json_values,
    )
)
def test_any_json_object_gives_a_request_or_a_refusal_with_its_reason(doc: dict[str, Any]) -> None:
    got = decode(json.dumps(doc).encode())
    if isinstance(got, RequestRefusedError):
        assert got.reason in {
            Refusal.MALFORMED,
            Refusal.MISSING_CASE,
            Refusal.BAD_CASE,
        }
        if doc.get("case") is None:
            assert got.reason is Refusal.MISSING_CASE
        return
    assert CASE.fullmatch(got.case)
    assert -180 <= got.place.lon <= 180
    assert -90 <= got.place.lat <= 90


@settings(deadline=None)  # a loaded machine's pauses are not what these test
@given(
    case=cases,
    type_=texts,
    lon=st.floats(-180, 180),
    lat=st.floats(-90, 90),
    agency=st.none() | texts,
    note=st.none() | texts,
    request_id=st.none() | texts,
    extra=st.dictionaries(
        st.text(max_size=8).filter(
            lambda k: k not in {"case", "type", "lon", "lat", "agency", "note", "request_id"}
        ),
        json_values,
        max_size=3,
    ),
)
def test_a_valid_request_comes_back_as_sent(
    case: str,
    type_: str,
    lon: float,
    lat: float,
    agency: str | None,
    note: str | None,
    request_id: str | None,
    extra: dict[str, Any],
) -> None:
    doc: dict[str, Any] = {**extra, "case": case, "type": type_, "lon": lon, "lat": lat}
    doc |= {k: v for k, v in (("agency", agency), ("note", note), ("request_id", request_id)) if v}
    got = decode_request(json.dumps(doc).encode())
    assert (got.case, got.type, got.place.lon, got.place.lat) == (case, type_, lon, lat)
    assert (got.agency, got.note, got.request_id) == (agency, note, request_id)
    assert peek(json.dumps(doc).encode()) == (case, request_id)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", Refusal.MALFORMED),
        (b"\xff", Refusal.MALFORMED),
        (b'{"case": "a", "type": "t", "lon": NaN, "lat": 1}', Refusal.MALFORMED),
        (b'{"case": "a", "type": "t", "lon": 1e999, "lat": 1}', Refusal.MALFORMED),
        (b'{"case": "a", "type": "t", "lon": true, "lat": 1}', Refusal.MALFORMED),
        (b'{"case": "a", "type": "", "lon": 1, "lat": 1}', Refusal.MALFORMED),
        (b'{"case": 7, "type": "t", "lon": 1, "lat": 1}', Refusal.MALFORMED),
        (b'{"case": null, "type": "t", "lon": 1, "lat": 1}', Refusal.MISSING_CASE),
        (b'{"case": "_x", "type": "t", "lon": 1, "lat": 1}', Refusal.BAD_CASE),
        (b'{"case": "a+b", "type": "t", "lon": 1, "lat": 1}', Refusal.BAD_CASE),
        (b"[" * 100_000, Refusal.TOO_LARGE),
        (b"[" * (MAX_BYTES - 10), Refusal.MALFORMED),  # deep nesting: refused, not a crash
    ],
)
def test_refusals_and_their_reasons(raw: bytes, reason: Refusal) -> None:
    got = decode(raw)
    assert isinstance(got, RequestRefusedError)
    assert got.reason is reason


@settings(deadline=None)  # a loaded machine's pauses are not what these test
@given(st.text(max_size=80))
def test_the_default_answer_topic_is_a_topic_under_the_agency_s_responses(case: str) -> None:
    topic = response_topic("tt", "police", case)
    root = responses_root("tt", "police")
    assert topic.startswith(root + "/")
    level = topic[len(root) + 1 :]
    assert "/" not in level
    assert "+" not in level
    assert "#" not in level
    assert level == (case if CASE.fullmatch(case) else INVALID_CASE_LEVEL)
    assert filter_covers(f"{root}/#", topic)  # the agency credential's read grant


@settings(deadline=None)  # a loaded machine's pauses are not what these test
@given(st.text(max_size=120))
def test_a_response_topic_is_taken_only_under_the_agency_s_responses(topic: str) -> None:
    if reply_topic_allowed("tt", "police", topic):
        assert filter_covers("cityops/tt/agency/police/responses/#", topic)
        assert "+" not in topic
        assert "#" not in topic


def test_response_topics_elsewhere_are_not_taken() -> None:
    allowed = ["cityops/tt/agency/police/responses/x", "cityops/tt/agency/police/responses/a/b"]
    refused = [
        "cityops/tt/agency/police/responses/",
        "cityops/tt/agency/police/responses",
        "cityops/tt/agency/police/responses/#",
        "cityops/tt/agency/police/responses/+/x",
        "cityops/tt/agency/traffic/responses/x",
        "cityops/tt/incidents/1",
        "cityops/tt/agency/police/responsesx/1",
    ]
    assert [reply_topic_allowed("tt", "police", t) for t in allowed] == [True, True]
    assert not any(reply_topic_allowed("tt", "police", t) for t in refused)


@settings(deadline=None)  # a loaded machine's pauses are not what these test
@given(st.text(max_size=60))
def test_request_topics_parse_back(text: str) -> None:
    parsed = parse_request_topic(text)
    if parsed is not None:
        assert request_topic(*parsed) == text
    assert parse_request_topic(request_topic("tt", "police")) == ("tt", "police")
