"""The test town with location requests configured (``sharing.requests``), and what the
location-request tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.town import MUNI, TOWN_YAML

REQUESTS = """\
  requests:
    within_km: 10
    agencies:
      - {agency: police, types: [robbery], for: 30min, radius_m: 250}
      - {agency: traffic-police, types: [traffic-accident], sector: transport}
"""
"""Appended inside the test town's ``sharing:`` block (the file's last section)."""
BOUNDARY = """\
public_warnings:
  boundary: [[25.38, 42.61], [25.40, 42.61], [25.40, 42.63], [25.38, 42.63]]
"""
"""A small square around the crossing: used when a test wants the outline, not the radius."""

CROSSING = {"lon": 25.3925, "lat": 42.6194}
"""Seen by cam-a and cam-b (tests/fixtures/testtown.yaml)."""
FAR = {"lon": 25.6, "lat": 42.6194}
"""About 17 km east of the centre: outside the 10 km of ``within_km``."""
URL = f"/api/v1/m/{MUNI}/agency/requests"


def requests_yaml(directory: Path, *, boundary: bool = False) -> Path:
    """The test town (same id) with location requests configured, as a newer configuration:
    :data:`REQUESTS` goes at the end of its ``sharing:`` block, wherever that is."""
    lines = TOWN_YAML.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("sharing:\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "#", "\n")),
        len(lines),
    )
    text = "".join(lines[:end]) + REQUESTS + "".join(lines[end:])
    path = directory / "testtown-requests.yaml"
    path.write_text(text + (BOUNDARY if boundary else ""), encoding="utf-8")
    return path


def body(case: str = "112-2026-0001", **fields: Any) -> dict[str, Any]:
    return {"case": case, "type": "robbery", **CROSSING, **fields}
