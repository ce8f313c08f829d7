"""The test town with ``public_warnings`` (no feeds) and the public-warning rule, as a YAML
file to import."""

from __future__ import annotations

from pathlib import Path

from tests.cap.test_intake_pipeline import RULE
from tests.town import TOWN_YAML

SECTION = """public_warnings:
  boundary: [[25.35, 42.58], [25.45, 42.66], [25.35, 42.66]]
  geocodes: {EMMA_ID: [BG004]}
"""


def town_with_warnings(directory: Path, extra: str = "") -> Path:
    yaml = TOWN_YAML.read_text(encoding="utf-8").replace("rules:\n", RULE, 1)
    path = directory / "town-warnings.yaml"
    path.write_text(yaml + SECTION + extra, encoding="utf-8")
    return path
