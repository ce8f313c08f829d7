"""The static part of a synthetic scene: ground, roads, buildings, trees, street lamps; by day
or by night (dark, lit windows, pools of lamp light); with sensor noise baked into a few
variants that frames take turns on (adding noise per frame would cost more than the drawing)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from cityops.video.synthetic.actors import stable_unit
from cityops.video.synthetic.view import FAR_M, NEAR_M, Image, View, ipt

BGR = tuple[int, int, int]
NOISE_VARIANTS = 6
NOISE_SIGMA = 2.5

ASPHALT: BGR = (78, 80, 82)
PAVEMENT: BGR = (150, 155, 160)
GRASS: BGR = (70, 120, 85)
MARKING: BGR = (225, 228, 230)
YARD: BGR = (120, 140, 150)


@dataclass(frozen=True, slots=True)
class Quad:
    """A rectangle on the ground (x0..x1, z0..z1) in one colour."""

    x0: float
    x1: float
    z0: float
    z1: float
    colour: BGR


@dataclass(frozen=True, slots=True)
class Building:
    x0: float
    x1: float
    z0: float
    z1: float
    height: float
    colour: BGR


@dataclass(frozen=True, slots=True)
class Scenery:
    ground: tuple[Quad, ...]
    buildings: tuple[Building, ...] = ()
    trees: tuple[tuple[float, float], ...] = ()
    lamps: tuple[tuple[float, float], ...] = ()
    fences: tuple[tuple[float, float, float], ...] = ()
    """(x0, x1, z): a fence along x at depth z."""
    extra: tuple[Quad, ...] = field(default=())
    """Markings drawn over the ground (lanes, zebra stripes)."""


def _poly(view: View, pts: list[tuple[float, float, float]]) -> Image:
    out: Image = np.rint(np.array([view.px(x, z, h) for x, z, h in pts])).astype(np.int32)
    return out


def _quad(img: Image, view: View, q: Quad) -> None:
    z0, z1 = max(q.z0, NEAR_M), min(q.z1, FAR_M)
    if z0 >= z1:
        return
    pts = [(q.x0, z0, 0.0), (q.x1, z0, 0.0), (q.x1, z1, 0.0), (q.x0, z1, 0.0)]
    cv2.fillConvexPoly(img, _poly(view, pts), q.colour)


def _building(img: Image, view: View, b: Building) -> None:
    z0 = max(b.z0, NEAR_M)
    front = [(b.x0, z0, 0.0), (b.x1, z0, 0.0), (b.x1, z0, b.height), (b.x0, z0, b.height)]
    x = _side_x(b)
    if x is not None:
        side = [(x, z0, 0.0), (x, b.z1, 0.0), (x, b.z1, b.height), (x, z0, b.height)]
        dark = (int(b.colour[0] * 0.75), int(b.colour[1] * 0.75), int(b.colour[2] * 0.75))
        cv2.fillConvexPoly(img, _poly(view, side), dark)
    cv2.fillConvexPoly(img, _poly(view, front), b.colour)


def _side_x(b: Building) -> float | None:
    """The x of the side the camera sees (none for a building straight ahead)."""
    if b.x1 <= 0.0:
        return b.x1
    if b.x0 >= 0.0:
        return b.x0
    return None


def _windows(img: Image, view: View, b: Building, key: str, *, lit_only: bool) -> None:
    """The windows on the side of a building that faces the road; at night some are lit."""
    x = _side_x(b)
    if x is None:
        return
    for f in range(int(b.height // 3.2)):
        for n, z in enumerate(np.arange(max(b.z0, NEAR_M) + 2.0, b.z1 - 1.5, 4.0).tolist()):
            lit = stable_unit(key, f, n) < 0.3
            if lit_only and not lit:
                continue
            h = 3.2 * f + 1.2
            win = [(x, z, h), (x, z + 1.4, h), (x, z + 1.4, h + 1.3), (x, z, h + 1.3)]
            cv2.fillConvexPoly(img, _poly(view, win), (90, 190, 230) if lit_only else (70, 60, 55))


def _tree(img: Image, view: View, x: float, z: float) -> None:
    base = view.px(x, z)
    top = view.px(x, z, 3.0)
    crown = view.px(x, z, 4.5)
    r = max(2, int(view.focal_px * 2.0 / z))
    cv2.line(img, ipt(base), ipt(top), (40, 60, 80), max(1, int(view.focal_px * 0.3 / z)))
    cv2.circle(img, ipt(crown), r, (50, 105, 60), -1)


def _lamp(img: Image, view: View, x: float, z: float, night: bool) -> None:
    base, head = view.px(x, z), view.px(x, z, 6.0)
    cv2.line(img, ipt(base), ipt(head), (60, 60, 60), max(1, int(view.focal_px * 0.15 / z)))
    cv2.circle(
        img,
        ipt(head),
        max(1, int(view.focal_px * 0.3 / z)),
        (200, 240, 255) if night else (90, 90, 90),
        -1,
    )


def _lamp_light(view: View, lamps: tuple[tuple[float, float], ...]) -> Image:
    light = np.zeros((view.height, view.width), np.float32)
    for x, z in lamps:
        pts = [
            (x + 7.0 * np.cos(a), z + 7.0 * np.sin(a), 0.0) for a in np.linspace(0, 2 * np.pi, 24)
        ]
        pts = [(px, max(pz, NEAR_M), h) for px, pz, h in pts]
        cv2.fillPoly(light, [_poly(view, pts)], 1.0)
    blurred: Image = cv2.GaussianBlur(light, (0, 0), 9.0)
    return blurred


def render_static(view: View, scenery: Scenery, night: bool, key: str) -> Image:
    img = np.empty((view.height, view.width, 3), np.uint8)
    hy = round(view.horizon_px)
    sky = np.linspace(235, 190, max(hy, 1)).astype(np.uint8)
    img[:hy] = np.stack([sky, sky - 10, sky - 30], axis=1)[:, None, :]
    img[hy:] = GRASS
    for q in (*scenery.ground, *scenery.extra):
        _quad(img, view, q)
    items: list[tuple[float, int, int]] = []
    items += [(b.z0, 0, i) for i, b in enumerate(scenery.buildings)]
    items += [(z, 1, i) for i, (_, z) in enumerate(scenery.trees)]
    items += [(z, 2, i) for i, (_, z) in enumerate(scenery.lamps)]
    items += [(z, 3, i) for i, (_, _, z) in enumerate(scenery.fences)]
    for _, kind, i in sorted(items, reverse=True):
        if kind == 0:
            _building(img, view, scenery.buildings[i])
            _windows(img, view, scenery.buildings[i], f"{key}-{i}", lit_only=False)
        elif kind == 1:
            _tree(img, view, *scenery.trees[i])
        elif kind == 2:
            _lamp(img, view, *scenery.lamps[i], night)
        else:
            x0, x1, z = scenery.fences[i]
            for x in np.arange(x0, x1 + 0.01, 0.5).tolist():
                cv2.line(img, ipt(view.px(x, z)), ipt(view.px(x, z, 1.8)), (90, 95, 100), 1)
            cv2.line(img, ipt(view.px(x0, z, 1.8)), ipt(view.px(x1, z, 1.8)), (90, 95, 100), 1)
    if not night:
        return img
    dark = img.astype(np.float32) * np.array([0.24, 0.2, 0.18], np.float32)
    light = _lamp_light(view, scenery.lamps)[..., None]
    lit = dark + light * np.array([45.0, 80.0, 105.0], np.float32) * (0.4 + img / 255.0)
    night_img = np.clip(lit, 0, 255).astype(np.uint8)
    for _, kind, i in sorted(items, reverse=True):  # lamps and lit windows glow on top
        if kind == 0:
            _windows(night_img, view, scenery.buildings[i], f"{key}-{i}", lit_only=True)
        elif kind == 2:
            _lamp(night_img, view, *scenery.lamps[i], True)
    return night_img


@functools.lru_cache(maxsize=16)
def noisy_backgrounds(view: View, scenery: Scenery, night: bool, key: str) -> tuple[Image, ...]:
    """Variants of the static picture with sensor noise, shared by every scene instance that
    shows the same place (25 demo cameras do not hold 25 copies)."""
    clean = render_static(view, scenery, night, key)
    rng = np.random.default_rng(int(stable_unit(key, night) * 2**32))
    out = []
    for _ in range(NOISE_VARIANTS):
        noise = rng.normal(0.0, NOISE_SIGMA if not night else NOISE_SIGMA * 1.6, clean.shape)
        variant = np.clip(clean.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        variant.setflags(write=False)
        out.append(variant)
    return tuple(out)
