"""The ``frigate:`` section: a Frigate NVR whose MQTT events become the municipality's camera
events (docs/CONFIG.md "frigate", docs/MQTT.md "Frigate")."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints

from cityops.config.base import Model
from cityops.config.fields import EventKind, Fraction, Id, check_line, matching
from cityops.domain.catalog import FrigateSource

DEFAULT_LABELS = {
    "person": "person",
    "car": "vehicle",
    "motorcycle": "vehicle",
    "bus": "vehicle",
    "truck": "vehicle",
    "bicycle": "bicycle",
}
"""Frigate's labels (its COCO label map) taken when ``labels`` is left out."""

_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
check_camera_name = matching(
    r"[A-Za-z0-9_\-]{1,64}", "a Frigate camera name is 1-64 letters, digits, '_' or '-'"
)


def check_topic_prefix(value: str) -> str:
    """``frigate`` or ``site-a/frigate``: MQTT topic levels without wildcards, not CityOps's."""
    levels = value.split("/")
    if len(value) > 200 or not all(_SEGMENT.fullmatch(level) for level in levels):
        raise ValueError(
            "must be MQTT topic levels separated by '/', each 1-64 letters, digits, '_', '.' "
            "or '-' (no wildcards)"
        )
    if levels[0] == "cityops":
        raise ValueError("topics under 'cityops/' are CityOps's own: choose another prefix")
    return value


TopicPrefix = Annotated[str, Strict(), AfterValidator(check_topic_prefix)]
FrigateCamera = Annotated[str, Strict(), AfterValidator(check_camera_name)]
"""A camera name as Frigate allows it."""
FrigateLabel = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=64), AfterValidator(check_line)
]
"""A label of Frigate's label map (``person``, ``car``, ``fire hydrant``)."""


class FrigateModel(Model):
    topic_prefix: TopicPrefix = "frigate"
    cameras: dict[FrigateCamera, Id] = Field(min_length=1, max_length=1000)
    labels: dict[FrigateLabel, EventKind] = Field(
        default_factory=lambda: dict(DEFAULT_LABELS), min_length=1, max_length=200
    )
    min_score: Fraction = 0.0

    def to_domain(self) -> FrigateSource:
        return FrigateSource(
            topic_prefix=self.topic_prefix,
            cameras=dict(self.cameras),
            labels=dict(self.labels),
            min_score=self.min_score,
        )
