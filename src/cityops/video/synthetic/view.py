"""The camera of a synthetic scene: a pinhole on a pole, looking level along the ground.

Ground coordinates are metres: ``x`` to the right of the camera, ``z`` straight ahead, ``h`` up.
A level pinhole maps the ground plane to the image by a homography, so a straight path on the
ground is a straight path in the image and "inside a zone" or "across a line" mean the same in
both; the ground truth is computed on the ground and is exact in the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

Image = NDArray[Any]
"""A picture (height x width x 3, BGR uint8) or an array of pixel points."""

Ground = tuple[float, float]
"""(x, z) in metres."""

NEAR_M = 3.0
"""Nothing closer than this to the camera is drawn or reported."""
FAR_M = 400.0


@dataclass(frozen=True, slots=True)
class View:
    width: int = 640
    height: int = 360
    focal_px: float = 520.0
    camera_height_m: float = 7.0
    horizon_px: float = 94.0

    def px(self, x: float, z: float, h: float = 0.0) -> tuple[float, float]:
        """Pixel (u, v) of the point ``h`` metres above ground point (x, z); z > 0."""
        return (
            self.width / 2 + self.focal_px * x / z,
            self.horizon_px + self.focal_px * (self.camera_height_m - h) / z,
        )

    def fraction(self, x: float, z: float) -> tuple[float, float]:
        """Image fractions of ground point (x, z) (outside 0..1 when out of view)."""
        u, v = self.px(x, z)
        return (u / self.width, v / self.height)

    def ground(self, fx: float, fy: float) -> Ground:
        """The ground point seen at image fractions (fx, fy); fy must be below the horizon."""
        u, v = fx * self.width, fy * self.height
        if v <= self.horizon_px:
            raise ValueError("the point is at or above the horizon: it is not on the ground")
        z = self.focal_px * self.camera_height_m / (v - self.horizon_px)
        return ((u - self.width / 2) * z / self.focal_px, z)

    @property
    def horizon_fraction(self) -> float:
        return self.horizon_px / self.height

    def scaled(self, width: int, height: int) -> View:
        """The same view at another resolution (same field of view)."""
        k = width / self.width
        horizon = self.horizon_px * height / self.height
        return View(width, height, self.focal_px * k, self.camera_height_m, horizon)


def ipt(p: tuple[float, float] | Any) -> tuple[int, int]:
    """A pixel point rounded for OpenCV's drawing functions."""
    return (round(float(p[0])), round(float(p[1])))
