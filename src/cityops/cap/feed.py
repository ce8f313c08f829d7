"""CAP feeds: an Atom or RSS document whose entries link to CAP alerts (MeteoAlarm publishes
one per country, with ``EMMA_ID`` region geocodes). The feed and every alert are parsed through
:mod:`cityops.safexml`; only http(s) links are followed, each response is bounded in size."""

from __future__ import annotations

from collections.abc import Container
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from cityops import safexml
from cityops.cap.check import Verdict, check

ATOM = "{http://www.w3.org/2005/Atom}"
MAX_FEED_BYTES = 4 * 1024 * 1024
MAX_ALERT_BYTES = 1024 * 1024
FETCHERS = 8
"""Alerts fetched at once from one feed."""


class FeedError(ValueError):
    """The feed itself could not be read (each alert's problems are in its verdict)."""


@dataclass(frozen=True)
class Fetched:
    url: str
    verdict: Verdict
    data: bytes = b""
    """The alert as fetched (kept when it puts a warning in force)."""


def alert_links(data: bytes, base: str) -> list[str]:
    """The CAP links of an Atom or RSS 2.0 feed, absolute, http(s) only, in feed order."""
    try:
        root = safexml.parse(data, max_bytes=MAX_FEED_BYTES)
    except safexml.XmlError as err:
        raise FeedError(f"feed: {err}") from None
    links: list[str] = []
    if root.tag == f"{ATOM}feed":
        for entry in root.iter(f"{ATOM}entry"):
            hrefs = [
                (ln.get("type") or "", ln.get("href") or "") for ln in entry.iter(f"{ATOM}link")
            ]
            cap = [h for t, h in hrefs if "cap" in t.lower()] or [h for _, h in hrefs[:1]]
            links.extend(cap[:1])
    elif root.tag == "rss":
        for item in root.iter("item"):
            link = item.findtext("link") or ""
            enclosure = item.find("enclosure")
            links.append(
                link.strip() or (enclosure.get("url", "") if enclosure is not None else "")
            )
    else:
        raise FeedError(f"feed: root element {root.tag!r} is neither Atom nor RSS")
    absolute = [urljoin(base, h.strip()) for h in links if h.strip()]
    return [u for u in dict.fromkeys(absolute) if urlsplit(u).scheme in {"http", "https"}]


def _get(client: httpx.Client, url: str, limit: int) -> bytes:
    with client.stream("GET", url) as response:
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise FeedError(f"{url}: more than {limit} bytes")
        return bytes(body)


def poll(client: httpx.Client, feed_url: str, skip: Container[str] = ()) -> list[Fetched]:
    """Every alert the feed links to (but those in ``skip``: fetched before), with its
    verdict. A link that cannot be fetched gets an invalid verdict saying why; the feed's own
    failure raises :class:`FeedError`."""
    try:
        links = alert_links(_get(client, feed_url, MAX_FEED_BYTES), feed_url)
    except httpx.HTTPError as err:
        raise FeedError(f"{feed_url}: {err}") from None

    def fetch(url: str) -> Fetched:
        try:
            data = _get(client, url, MAX_ALERT_BYTES)
            return Fetched(url, check(data), data)
        except (httpx.HTTPError, FeedError) as err:
            return Fetched(url, Verdict(False, (f"not fetched: {err}",), None, None))

    todo = [u for u in links if u not in skip]
    with ThreadPoolExecutor(max_workers=FETCHERS) as pool:  # a remote feed: latency, not CPU
        return list(pool.map(fetch, todo))


def client(timeout_s: float = 10.0) -> httpx.Client:
    """An HTTP client for feeds: bounded time, no redirects (a feed's links are followed one
    by one, http(s) only), no environment proxies or .netrc."""
    return httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False)
