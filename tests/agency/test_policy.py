"""What a municipality allows: the ``sharing.requests`` configuration and its checks, where
"inside the municipality" ends, and the MQTT grants of an agency system's credential."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityops.config.errors import ConfigError
from cityops.config.loader import load_config, load_config_text
from cityops.data import DEMO_CONFIG
from cityops.domain.agency_requests import LocationRequest, Refusal, RequestRefusedError
from cityops.domain.devices import (
    DeviceKind,
    DeviceScope,
    ScopeError,
    check_scope,
    grants,
    may_publish,
    may_receive,
    may_subscribe,
)
from cityops.domain.entities import LonLat
from cityops.services.agency_requests import check, inside
from cityops.services.runtime import MunicipalityRuntime
from tests.agency.support import REQUESTS, requests_yaml


def runtime(tmp_path: Path, *, boundary: bool) -> MunicipalityRuntime:
    return MunicipalityRuntime.build(load_config(requests_yaml(tmp_path, boundary=boundary)))


def test_without_an_outline_the_municipality_ends_within_km_from_its_centre(
    tmp_path: Path,
) -> None:
    rt = runtime(tmp_path, boundary=False)  # centre 25.3925, 42.6194; within_km: 10
    assert inside(rt, LonLat(25.3925, 42.6194), 10.0)
    assert inside(rt, LonLat(25.3925, 42.6194 + 0.089), 10.0)  # ~9.9 km north
    assert not inside(rt, LonLat(25.3925, 42.6194 + 0.091), 10.0)  # ~10.1 km north
    assert not inside(rt, LonLat(-154.6, -42.6), 10.0)  # the antipode: no projection trouble


def test_with_an_outline_the_boundary_decides(tmp_path: Path) -> None:
    rt = runtime(tmp_path, boundary=True)  # the square 25.38-25.40 x 42.61-42.63
    assert inside(rt, LonLat(25.3925, 42.6194), 10.0)
    assert inside(rt, LonLat(25.40, 42.62), 10.0)  # on the edge
    assert not inside(rt, LonLat(25.41, 42.62), 10.0)  # ~1 km away: within 10 km, outside


def request(**kw: object) -> LocationRequest:
    fields: dict[str, object] = {"case": "c-1", "type": "robbery", "place": LonLat(25.39, 42.62)}
    return LocationRequest(**(fields | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agency", "req", "reason"),
    [
        ("police", request(agency="traffic-police"), Refusal.WRONG_AGENCY),
        ("civil-protection", request(), Refusal.AGENCY_NOT_ALLOWED),
        ("no-such-agency", request(), Refusal.AGENCY_NOT_ALLOWED),
        ("police", request(type="traffic-accident"), Refusal.UNKNOWN_TYPE),
        ("police", request(type="flood"), Refusal.UNKNOWN_TYPE),  # a purpose, not police's
        ("police", request(place=LonLat(25.41, 42.62)), Refusal.OUTSIDE),
    ],
)
def test_check_refuses_with_the_reason(
    tmp_path: Path, agency: str, req: LocationRequest, reason: Refusal
) -> None:
    rt = runtime(tmp_path, boundary=True)
    with pytest.raises(RequestRefusedError) as caught:
        check(rt, req, agency)
    assert caught.value.reason is reason


def test_check_gives_the_agency_s_policy(tmp_path: Path) -> None:
    policy = check(runtime(tmp_path, boundary=True), request(agency="police"), "police")
    assert (policy.agency, policy.types, policy.minutes, policy.radius_m) == (
        "police",
        ("robbery",),
        30.0,
        250.0,
    )


def test_kazanlak_allows_the_police_its_seven_crime_types() -> None:
    requests = load_config(DEMO_CONFIG).sharing.requests
    assert requests is not None
    police = requests.policy_of("police")
    assert police is not None
    assert len(police.types) == 7
    assert "fire" not in police.types


def configured(tmp_path: Path, block: str) -> str:
    text = requests_yaml(tmp_path).read_text(encoding="utf-8")
    return text.replace(REQUESTS, block)


@pytest.mark.parametrize(
    ("block", "where", "says"),
    [
        (
            "  requests:\n    agencies:\n      - {agency: interpol, types: [robbery]}\n",
            "sharing.requests.agencies[0].agency",
            "unknown agency 'interpol'",
        ),
        (
            "  requests:\n    agencies:\n      - {agency: police, types: [robbery, arson]}\n",
            "sharing.requests.agencies[0].types[1]",
            "'arson' is not one of sharing.purposes",
        ),
        (
            "  requests:\n    agencies:\n      - {agency: police, types: [robbery], for: 7h}\n",
            "sharing.requests.agencies[0].for",
            "longer than sharing.max_minutes (360)",
        ),
        (
            "  requests:\n    agencies:\n      - {agency: police, types: [robbery]}\n"
            "      - {agency: police, types: [flood]}\n",
            "sharing.requests.agencies[1].agency",
            "listed twice",
        ),
        (
            "  requests:\n    agencies:\n      - {agency: police, types: []}\n",
            "sharing.requests.agencies[0].types",
            "at least 1",
        ),
        (
            "  requests:\n    within_km: 0\n",
            "sharing.requests.within_km",
            "greater than 0",
        ),
    ],
)
def test_configuration_mistakes_are_refused_with_their_place(
    tmp_path: Path, block: str, where: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(configured(tmp_path, block))
    assert any(i.field == where and says in i.message for i in caught.value.issues), str(
        caught.value
    )


def test_an_agency_credential_names_its_agency() -> None:
    with pytest.raises(ScopeError, match="names its agency"):
        check_scope(DeviceScope("sys", DeviceKind.AGENCY, "tt"))
    with pytest.raises(ScopeError, match="one municipality"):
        check_scope(DeviceScope("sys", DeviceKind.AGENCY, None, ("police",)))


def test_an_agency_system_requests_and_reads_answers_for_its_own_agency_only() -> None:
    granted = grants(check_scope(DeviceScope("sys", DeviceKind.AGENCY, "tt", ("police",))))
    assert may_publish(granted, "cityops/tt/agency/police/requests")
    assert not may_publish(granted, "cityops/tt/agency/traffic/requests")
    assert not may_publish(granted, "cityops/xx/agency/police/requests")
    assert not may_publish(granted, "cityops/tt/agency/police/responses/c-1")  # no fake answers
    assert may_subscribe(granted, "cityops/tt/agency/police/responses/#")
    assert may_receive(granted, "cityops/tt/agency/police/responses/inbox/7")
    assert not may_subscribe(granted, "cityops/tt/agency/+/responses/#")
    assert not may_receive(granted, "cityops/tt/agency/traffic/responses/c-1")
    assert not may_receive(granted, "cityops/tt/incidents/1")


def test_the_ingest_takes_every_request_and_answers_under_responses() -> None:
    granted = grants(check_scope(DeviceScope("ingest", DeviceKind.INGEST, None)))
    assert may_subscribe(granted, "cityops/+/agency/+/requests")
    assert may_publish(granted, "cityops/tt/agency/police/responses/c-1")
    assert may_publish(granted, "cityops/tt/agency/police/responses/inbox/7")
    assert not may_publish(granted, "cityops/tt/agency/police/requests")
