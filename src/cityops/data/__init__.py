"""Package data: the demo municipality's configuration."""

from pathlib import Path

DEMO_CONFIG = Path(__file__).with_name("kazanlak.yaml")
"""Kazanlak, Bulgaria: the configuration ``cityops demo`` runs with (see docs/CONFIG.md)."""
