"""CAP feed of N alerts fetched, parsed, checked and matched (docs/BENCHMARKS.md, "Public
warnings"). The target (issue 9): 1,000 alerts in under 5 s.

    python -m bench.cap                 # 1,000 alerts
    python -m bench.cap --alerts 200

A local HTTP server (loopback, started here) serves an Atom feed linking N CAP 1.2 alerts:
a third drawn as polygons, a third as circles, a third by EMMA_ID geocode; half of each inside
the test municipality, half elsewhere in Bulgaria. Reported: the whole poll (fetch + parse +
schema + rules + signature check), the matching into the book, and alerts per second. One JSON
document on stdout.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from cityops.cap.area import Jurisdiction
from cityops.cap.book import AlertBook
from cityops.cap.feed import client, poll
from cityops.domain.entities import LonLat

WHERE = Jurisdiction(
    "kazanlak",
    (LonLat(25.35, 42.58), LonLat(25.45, 42.58), LonLat(25.45, 42.66), LonLat(25.35, 42.66)),
    {"EMMA_ID": frozenset({"BG004"})},
)
NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


def alert(i: int) -> bytes:
    inside = i % 2 == 0
    lat, lon = (42.62, 25.40) if inside else (43.21, 27.91)
    shape = i % 3
    if shape == 0:
        d = 0.01
        ring = [(lat - d, lon - d), (lat + d, lon - d), (lat + d, lon + d), (lat - d, lon - d)]
        area = "<polygon>" + " ".join(f"{a},{b}" for a, b in ring) + "</polygon>"
    elif shape == 1:
        area = f"<circle>{lat},{lon} 2.0</circle>"
    else:
        code = "BG004" if inside else "BG011"
        area = f"<geocode><valueName>EMMA_ID</valueName><value>{code}</value></geocode>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>bench-{i}</identifier><sender>bench@meteo.bg</sender>
  <sent>2026-12-03T12:00:00+02:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><language>bg-BG</language><category>Met</category><event>Вятър</event>
    <urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>
    <expires>2026-12-04T00:00:00+02:00</expires><headline>Силен вятър {i}</headline>
    <area><areaDesc>Област {i}</areaDesc>{area}</area></info>
</alert>""".encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"the feed server did not answer at {url}")


def run(n: int) -> dict[str, object]:
    with TemporaryDirectory() as tmp:
        root = Path(tmp)
        entries = []
        for i in range(n):
            (root / f"{i}.cap").write_bytes(alert(i))
            entries.append(
                f"<entry><id>{i}</id><title>{i}</title><updated>2026-12-03T10:00:00Z</updated>"
                f'<link href="{i}.cap" type="application/cap+xml"/></entry>'
            )
        (root / "feed.xml").write_text(
            '<feed xmlns="http://www.w3.org/2005/Atom"><id>bench</id><title>bench</title>'
            f"<updated>2026-12-03T10:00:00Z</updated>{''.join(entries)}</feed>"
        )
        # the server in a process of its own, as a real feed is: not competing for our GIL
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/feed.xml"
            _wait_for(url)
            with client() as http:
                t0 = time.perf_counter()
                fetched = poll(http, url)
                t1 = time.perf_counter()
            book = AlertBook(WHERE)
            opened = sum(len(book.apply(f.verdict.alert, NOW)) for f in fetched if f.verdict.alert)
            t2 = time.perf_counter()
        finally:
            server.terminate()
            server.wait(timeout=10)
    valid = sum(f.verdict.valid for f in fetched)
    return {
        "alerts": n,
        "valid": valid,
        "matched": opened,
        "poll_s": round(t1 - t0, 3),
        "match_s": round(t2 - t1, 3),
        "total_s": round(t2 - t0, 3),
        "alerts_per_s": round(n / (t2 - t0), 1),
        "target_s": 5.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000)
    print(json.dumps(run(parser.parse_args().alerts), indent=2))


if __name__ == "__main__":
    main()
