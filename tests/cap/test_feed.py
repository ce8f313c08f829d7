"""A CAP feed (Atom as MeteoAlarm publishes, and RSS) polled from a local HTTP server started
here, its alerts checked and matched to the municipality by EMMA_ID."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.cap.book import AlertBook, Change
from cityops.cap.feed import FeedError, alert_links, client, poll
from tests.cap.support import alert_xml
from tests.cap.test_area_book import KAZANLAK

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2">
  <id>https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-bulgaria</id>
  <title>MeteoAlarm Bulgaria</title>
  <updated>2026-12-03T10:00:00Z</updated>
  {entries}
</feed>"""
ENTRY = """<entry><id>{name}</id><title>{name}</title><updated>2026-12-03T10:00:00Z</updated>
  <link href="{href}" type="application/cap+xml"/><link href="/html/{name}" rel="related"/>
  <cap:geocode><valueName>EMMA_ID</valueName><value>BG004</value></cap:geocode></entry>"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_a_feed_is_polled_checked_and_matched(served: tuple[str, Path]) -> None:
    base, root = served
    # an alert for Kazanlak's region by EMMA_ID only (its shapes lie elsewhere)
    far = "43.20,27.90 43.25,27.90 43.25,27.95 43.20,27.95 43.20,27.90"
    (root / "a1.cap").write_bytes(alert_xml(identifier="a1", polygon=far, circle=None))
    ref = "ops@kazanlak.bg,a1,2026-12-03T12:00:00+02:00"
    (root / "a2.cap").write_bytes(
        alert_xml(identifier="a2", msg_type="Cancel", references=ref, polygon=far, circle=None)
    )
    (root / "bad.cap").write_bytes(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>")
    entries = [
        ENTRY.format(name="a1", href="a1.cap"),
        ENTRY.format(name="bad", href=f"{base}/bad.cap"),
        ENTRY.format(name="gone", href="missing.cap"),
        ENTRY.format(name="local", href="file:///etc/passwd"),
        ENTRY.format(name="a2", href="a2.cap"),
    ]
    (root / "feed.xml").write_text(ATOM.format(entries="\n".join(entries)))
    with client(timeout_s=5) as http:
        fetched = poll(http, f"{base}/feed.xml")
    assert [f.url.rsplit("/", 1)[-1] for f in fetched] == [
        "a1.cap",
        "bad.cap",
        "missing.cap",
        "a2.cap",
    ]
    ok, bad, gone, cancel = (f.verdict for f in fetched)
    assert ok.valid
    assert cancel.valid
    assert not bad.valid
    assert bad.reasons[0].startswith("schema:")
    assert not gone.valid
    assert "404" in gone.reasons[0]
    book = AlertBook(KAZANLAK)
    now = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    changes = [o.change for v in (ok, cancel) if v.alert for o in book.apply(v.alert, now)]
    assert changes == [Change.OPENED, Change.CANCELLED]


def test_rss_links_are_read() -> None:
    rss = b"""<rss version="2.0"><channel><title>t</title>
      <item><link>https://example.org/1.cap</link></item>
      <item><enclosure url="/2.cap" type="application/cap+xml"/></item>
      <item><link>ftp://example.org/3.cap</link></item></channel></rss>"""
    assert alert_links(rss, "https://example.org/feed") == [
        "https://example.org/1.cap",
        "https://example.org/2.cap",
    ]


def test_a_hostile_or_foreign_feed_is_refused() -> None:
    with pytest.raises(FeedError, match="DTD"):
        alert_links(
            b'<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed/>', "http://x/"
        )
    with pytest.raises(FeedError, match="neither Atom nor RSS"):
        alert_links(b"<html/>", "http://x/")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=1500),
        st.lists(
            st.tuples(
                st.sampled_from(["application/cap+xml", "text/html", ""]),
                st.text(max_size=40),
            ),
            max_size=6,
        ).map(
            lambda links: ATOM.format(
                entries="".join(
                    f'<entry><link type="{t}" href="{escape(h, quote=True)}"/></entry>'
                    for t, h in links
                )
            ).encode()
        ),
    )
)
def test_any_feed_gives_http_links_or_a_feed_error(data: bytes) -> None:
    refused = ""
    try:
        links = alert_links(data, "https://feeds.example/bg")
    except FeedError as err:
        refused, links = str(err), []
    if refused:
        assert refused.startswith("feed:")
        return
    for link in links:
        assert link.split(":", 1)[0] in {"http", "https"}
    assert len(links) == len(set(links))
