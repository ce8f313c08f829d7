"""CAP 1.2's own rules beyond the schema, and XML signatures made and checked here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cityops import safexml
from cityops.cap.check import check
from tests.cap.support import alert_xml, signing_chain, signing_pair


def test_a_good_alert_is_read() -> None:
    verdict = check(alert_xml())
    assert verdict.valid, verdict.reasons
    alert = verdict.alert
    assert alert is not None
    assert alert.key == ("ops@kazanlak.bg", "kazanlak-2026-001")
    area = alert.infos[0].areas[0]
    assert area.geocodes == (("EMMA_ID", "BG004"),)
    assert area.circles[0].center == (42.62, 25.40)
    assert area.circles[0].radius_km == 1.5
    assert len(area.polygons[0]) == 5
    assert alert.expires() == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"msg_type": "Update"}, "must name the message"),
        ({"msg_type": "Cancel", "references": "a,b"}, "is not sender,identifier,sent"),
        ({"identifier": "has space"}, "identifier 'has space'"),
        ({"polygon": "42.6,25.3 42.7,25.3 42.6,25.3"}, "at least 4 points"),
        ({"polygon": "42.6,25.3 42.7,25.3 42.7,25.4 42.6,25.4"}, "the first equal to the last"),
        ({"polygon": "95,25.3 42.7,25.3 42.7,25.4 95,25.3"}, "outside WGS 84"),
        ({"expires": "2026-12-03T09:00:00+02:00"}, "is before sent"),
    ],
)
def test_rules_beyond_the_schema(kwargs: dict[str, str], reason: str) -> None:
    verdict = check(alert_xml(**kwargs))
    assert not verdict.valid
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_an_update_with_references_is_valid() -> None:
    verdict = check(
        alert_xml(
            msg_type="Update",
            identifier="kazanlak-2026-002",
            references="ops@kazanlak.bg,kazanlak-2026-001,2026-12-03T12:00:00+02:00",
        )
    )
    assert verdict.valid, verdict.reasons
    assert verdict.alert is not None
    (ref,) = verdict.alert.references
    assert (ref.sender, ref.identifier) == ("ops@kazanlak.bg", "kazanlak-2026-001")


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return signing_pair()


def test_a_signed_alert_verifies(keys: tuple[bytes, bytes]) -> None:
    key, cert = keys
    signed = safexml.sign_enveloped(alert_xml(), key_pem=key, cert_pem=cert)
    verdict = check(signed)
    assert verdict.valid, verdict.reasons  # the signature is allowed by the schema
    assert verdict.signature is not None
    assert verdict.signature.status == "valid"
    assert verdict.signature.signer == "CN=CityOps test signer"
    assert verdict.signature.trusted is False


def test_a_changed_signed_alert_fails(keys: tuple[bytes, bytes]) -> None:
    key, cert = keys
    signed = safexml.sign_enveloped(alert_xml(), key_pem=key, cert_pem=cert)
    tampered = signed.replace(b"Severe", b"Minor", 1)
    assert tampered != signed
    sig = check(tampered).signature
    assert sig is not None
    assert sig.status == "invalid"
    assert "digest" in sig.detail.lower()


def test_a_trust_anchor_decides_trust(tmp_path: Path) -> None:
    key, cert, ca = signing_chain()
    signed = safexml.sign_enveloped(alert_xml(), key_pem=key, cert_pem=cert)
    anchors = tmp_path / "ca.pem"
    anchors.write_bytes(ca)
    sig = check(signed, trusted_ca=anchors).signature
    assert sig is not None
    assert (sig.status, sig.trusted, sig.signer) == ("valid", True, "CN=Kazanlak warnings")
    _other_key, _other_cert, other_ca = signing_chain()
    anchors.write_bytes(other_ca)
    sig2 = check(signed, trusted_ca=anchors).signature
    assert sig2 is not None
    assert (sig2.status, sig2.trusted) == ("invalid", False)
    assert sig2.detail.startswith("certificate:")


def test_a_wrapped_reference_is_refused(keys: tuple[bytes, bytes]) -> None:
    key, cert = keys
    signed = safexml.sign_enveloped(alert_xml(), key_pem=key, cert_pem=cert)
    partial = signed.replace(b'URI=""', b'URI="#x"', 1)
    sig = check(partial).signature
    assert sig is not None
    assert sig.status == "invalid"
    assert "whole document" in sig.detail
