"""The configured CAP feed polled from a local HTTP server into the real pipeline (SQLite):
``public_warnings:`` in the town's YAML, the poller's schedule, alerts fetched once, an update
joining the incident, expiry closing the warning; a bad section is refused with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cityops.app import import_config, load_runtimes
from cityops.cap.book import Change
from cityops.config.errors import ConfigError
from cityops.ingest.cap_feeds import CapFeedPoller
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.services.live import LiveBus, LiveKind, LiveMessage, WarningChange
from cityops.store import tables as t
from tests.cap.support import alert_xml
from tests.cap.test_feed import ATOM, ENTRY, served
from tests.cap.test_intake_pipeline import RULE
from tests.ingest.test_pipeline import count, incidents
from tests.town import TOWN_YAML, FrozenClock, town_db

__all__ = ["served"]  # the fixture, imported for this module

SECTION = """public_warnings:
  boundary: [[25.35, 42.58], [25.45, 42.58], [25.45, 42.66], [25.35, 42.66]]
  geocodes: {{EMMA_ID: [BG004]}}
  feeds:
    - {{url: "{url}", every: 5min}}
"""
NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Engine]:
    db = town_db(f"sqlite:///{tmp_path / 'cityops.db'}")
    yield db
    db.dispose()


def _configure(db: Engine, tmp_path: Path, section: str) -> None:
    yaml = TOWN_YAML.read_text(encoding="utf-8").replace("rules:\n", RULE, 1) + section
    path = tmp_path / "town.yaml"
    path.write_text(yaml, encoding="utf-8")
    import_config(db, path, actor="test")


def _publish(root: Path, names: list[str]) -> None:
    entries = "\n".join(ENTRY.format(name=n, href=f"{n}.cap") for n in names)
    (root / "feed.xml").write_text(ATOM.format(entries=entries))


def test_the_configured_feed_opens_updates_and_expires(
    town: Engine, tmp_path: Path, served: tuple[str, Path]
) -> None:
    base, root = served
    _configure(town, tmp_path, SECTION.format(url=f"{base}/feed.xml"))
    clock = FrozenClock(NOW)
    pipeline = IngestPipeline(town, load_runtimes(town), clock=clock)
    pipeline.restore()
    outcomes: list[MessageOutcome] = []

    def submit(message: InboundMessage) -> None:
        message.done = outcomes.append
        pipeline.process([message])

    live = LiveBus()
    seen: list[LiveMessage] = []
    live.subscribe(seen.extend)
    poller = CapFeedPoller(pipeline.runtimes, submit, clock, live=live, db=town)
    try:
        (root / "a1.cap").write_bytes(alert_xml(identifier="a1"))
        _publish(root, ["a1"])
        assert poller.poll_due() == 1
        assert poller.poll_due() == 0  # not due again for 5 minutes
        ref = "ops@kazanlak.bg,a1,2026-12-03T12:00:00+02:00"
        (root / "a2.cap").write_bytes(alert_xml(identifier="a2", msg_type="Update", references=ref))
        _publish(root, ["a2", "a1"])
        clock.advance(minutes=5)
        assert poller.poll_due() == 1  # a1 is not fetched again
        book = poller.book("testtown")
        assert book is not None
        assert set(book.active) == {("ops@kazanlak.bg", "a2")}
        clock.now = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # the alerts' expiry
        poller.poll_due()
        assert [o.change for _, o in poller.changes] == [
            Change.OPENED,
            Change.UPDATED,
            Change.EXPIRED,
        ]
        assert book.active == {}
        assert [(m.kind, m.payload.change) for m in seen] == [  # type: ignore[union-attr]
            (LiveKind.WARNING, WarningChange.OPENED),
            (LiveKind.WARNING, WarningChange.UPDATED),
            (LiveKind.WARNING, WarningChange.EXPIRED),
        ]
        assert [o.accepted for o in outcomes] == [1, 1]
        assert count(town, t.events) == 2
        (incident,) = incidents(town)
        assert incident["type"] == "public_warning"
        with town.connect() as conn:
            notes = conn.execute(
                select(t.incident_timeline.c.actor, t.incident_timeline.c.text)
                .where(t.incident_timeline.c.incident_id == incident["id"])
                .where(t.incident_timeline.c.kind == "note")
            ).all()
        assert [tuple(n) for n in notes] == [
            ("CAP", "Public warning a2 (Наводнение в центъра) expired.")
        ]
    finally:
        poller.stop()


def test_an_unreachable_feed_costs_nothing(town: Engine, tmp_path: Path) -> None:
    _configure(town, tmp_path, SECTION.format(url="http://127.0.0.1:9/feed.xml"))
    sent: list[InboundMessage] = []
    poller = CapFeedPoller(load_runtimes(town), sent.append, FrozenClock(NOW))
    try:
        assert poller.poll_due() == 0
        assert sent == []
    finally:
        poller.stop()


@pytest.mark.parametrize(
    ("section", "says"),
    [
        (SECTION.format(url="file:///etc/passwd"), "URL scheme"),
        (SECTION.format(url="http://x/f").replace("5min", "10s"), "at most every 30s"),
        (
            SECTION.format(url="http://x/f").replace(
                "[[25.35, 42.58], [25.45, 42.58], [25.45, 42.66], [25.35, 42.66]]",
                "[[25.35, 42.58], [25.45, 42.66], [25.45, 42.58], [25.35, 42.66]]",
            ),
            "simple polygon",
        ),
    ],
)
def test_a_bad_section_is_refused(town: Engine, tmp_path: Path, section: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _configure(town, tmp_path, section)


def test_expiry_is_checked_without_a_feed(town: Engine, tmp_path: Path) -> None:
    _configure(town, tmp_path, SECTION.format(url="http://x/f").split("  feeds:")[0])
    clock = FrozenClock(NOW)
    poller = CapFeedPoller(load_runtimes(town), lambda m: None, clock)
    try:
        book = poller.book("testtown")
        assert book is not None
        from cityops.cap.check import check

        alert = check(alert_xml()).alert
        assert alert is not None
        book.apply(alert, NOW)
        clock.now = NOW + timedelta(hours=6)
        poller.poll_due()
        assert book.active == {}
    finally:
        poller.stop()
