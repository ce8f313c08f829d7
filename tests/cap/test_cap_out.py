"""CAP out: every message CityOps produces validates against CAP-v1.2-oasis.xsd (the OASIS
schema from ../shared/data when present, else the copy shipped) and its signature verifies;
updates and cancellations reference the original; the Atom feed lists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops import safexml
from cityops.cap.book import AlertBook, Change
from cityops.cap.check import SCHEMA, check
from cityops.cap.draft import Draft, DraftError, Signer, Text, follow_up, produce
from cityops.cap.feed import alert_links
from cityops.cap.model import Alert
from cityops.cap.publish import CapArchive, Published, atom_feed
from cityops.domain.entities import Sector
from tests.cap.support import signing_pair
from tests.cap.test_area_book import KAZANLAK

SENT = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
TEXTS = (
    Text(
        "bg-BG",
        "Наводнение",
        "Наводнение в центъра на Казанлък",
        "Река Тунджа излезе от коритото си.",
        "Избягвайте ниските части на града.",
        "Казанлък, център",
    ),
    Text(
        "en-US",
        "Flood",
        "Flood in central Kazanlak",
        "The Tundzha river has burst its banks.",
        "Avoid the low parts of town.",
        "Kazanlak, centre",
    ),
)


def _draft(**changes: object) -> Draft:
    base = Draft(
        identifier="cityops.kazanlak.incident-42.1",
        sender="cityops@kazanlak.bg",
        sent=SENT,
        sector=Sector.DISASTER,
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        expires=SENT + timedelta(hours=6),
        texts=TEXTS,
        polygon=((42.61, 25.38), (42.63, 25.38), (42.63, 25.41), (42.61, 25.41), (42.61, 25.38)),
        sender_name="Община Казанлък / Kazanlak municipality",
    )
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def signer() -> Signer:
    key, cert = signing_pair()
    return Signer(key, cert)


@pytest.fixture(scope="module")
def oasis_xsd(shared_data: Path) -> Path:
    return shared_data / "cap" / "CAP-v1.2-oasis.xsd"


def _oasis_valid(data: bytes, xsd: Path) -> None:
    assert safexml.schema_errors(safexml.parse(data), xsd) == []
    assert xsd.read_bytes() == SCHEMA.read_bytes()  # the shipped copy is the OASIS schema


def test_a_signed_bilingual_warning(signer: Signer, oasis_xsd: Path) -> None:
    data, verdict = produce(_draft(), signer)
    _oasis_valid(data, oasis_xsd)
    assert verdict.signature is not None
    assert verdict.signature.status == "valid"
    assert verdict.alert is not None
    assert [i.language for i in verdict.alert.infos] == ["bg-BG", "en-US"]
    assert verdict.alert.infos[0].headline == "Наводнение в центъра на Казанлък"
    assert b"<ns0:" not in data or b"xmlns:ns0" in data  # well-formed namespacing either way


def test_an_unsigned_warning_with_a_circle(oasis_xsd: Path) -> None:
    data, verdict = produce(_draft(polygon=(), circle=((42.62, 25.40), 1.5)))
    _oasis_valid(data, oasis_xsd)
    assert verdict.signature is not None
    assert verdict.signature.status == "absent"


def test_update_and_cancel_reference_the_original(signer: Signer, oasis_xsd: Path) -> None:
    original = _draft()
    later = SENT + timedelta(minutes=30)
    update = follow_up(original, identifier="cityops.kazanlak.incident-42.2", sent=later)
    cancel = follow_up(update, identifier="cityops.kazanlak.incident-42.3", sent=later, cancel=True)
    book = AlertBook(KAZANLAK)
    changes = []
    for draft in (original, update, cancel):
        data, verdict = produce(draft, signer)
        _oasis_valid(data, oasis_xsd)
        assert verdict.alert is not None
        changes += [(o.change, o.key[1]) for o in book.apply(verdict.alert, later)]
    assert update.references[0].sent == "2026-12-03T11:00:00-00:00"
    assert changes == [
        (Change.OPENED, "cityops.kazanlak.incident-42.1"),
        (Change.UPDATED, "cityops.kazanlak.incident-42.2"),
        (Change.CANCELLED, "cityops.kazanlak.incident-42.2"),
    ]


def test_an_invalid_draft_is_refused() -> None:
    with pytest.raises(DraftError, match="identifier"):
        produce(_draft(identifier="has space"))
    with pytest.raises(DraftError, match="area"):
        produce(_draft(polygon=()))
    with pytest.raises(DraftError, match="schema"):
        produce(_draft(urgency="Soon"))
    with pytest.raises(DraftError, match=r"U\+FFFE"):
        produce(_draft(texts=(Text("en-US", "Flood", "bad \ufffe", "x"),)))


def test_the_feed_lists_the_messages() -> None:
    original = _draft()
    update = follow_up(original, identifier="u-2", sent=SENT + timedelta(minutes=5))
    feed = atom_feed(
        feed_id="https://kazanlak.example/cap/feed",
        title="Kazanlak public warnings",
        updated=SENT + timedelta(minutes=5),
        items=[
            Published.of(_alert_of(original), "https://kazanlak.example/cap/1.xml"),
            Published.of(_alert_of(update), "https://kazanlak.example/cap/2.xml"),
        ],
    )
    assert alert_links(feed, "https://kazanlak.example/cap/feed") == [
        "https://kazanlak.example/cap/2.xml",
        "https://kazanlak.example/cap/1.xml",
    ]


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=60,
).filter(str.strip)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, _TEXT, st.integers(min_value=1, max_value=72))
def test_any_text_makes_a_valid_message(headline: str, description: str, hours: int) -> None:
    texts = (Text("bg-BG", "Наводнение", headline, description),)
    data, verdict = produce(_draft(texts=texts, expires=SENT + timedelta(hours=hours)))
    assert verdict.alert is not None
    assert verdict.alert.infos[0].headline == headline.strip()
    assert check(data).valid


def _alert_of(draft: Draft) -> Alert:
    alert = produce(draft)[1].alert
    assert alert is not None
    return alert


def test_the_archive_keeps_what_was_published(tmp_path: Path) -> None:
    archive = CapArchive(tmp_path)
    assert archive.next_identifier("kazanlak", 42) == "cityops.kazanlak.incident-42.1"
    data, _ = produce(_draft(identifier="cityops.kazanlak.incident-42.1"))
    archive.put("kazanlak", "cityops.kazanlak.incident-42.1", data)
    with pytest.raises(FileExistsError):
        archive.put("kazanlak", "cityops.kazanlak.incident-42.1", b"other")
    assert archive.get("kazanlak", "cityops.kazanlak.incident-42.1") == data
    assert archive.get("kazanlak", "../../etc/passwd") is None
    assert archive.next_identifier("kazanlak", 42) == "cityops.kazanlak.incident-42.2"
    assert [a.identifier for a in archive.alerts("kazanlak")] == ["cityops.kazanlak.incident-42.1"]
