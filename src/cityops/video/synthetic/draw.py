"""Drawing actors: cars as two boxes (body and cabin) in perspective, people as legs, torso,
arms and head with a walking swing. Each function draws and returns the pixel box of what it
drew (inclusive), which is the ground truth box of the object."""

from __future__ import annotations

import math

import cv2
import numpy as np

from cityops.video.synthetic.actors import ActorState
from cityops.video.synthetic.view import Image, View, ipt

PixelBox = tuple[int, int, int, int]
"""x1, y1, x2, y2 in pixels, inclusive."""

HEADLIGHT = (225, 250, 255)
TAILLIGHT = (40, 40, 230)
BEAM = (70, 95, 105)


def _shade(colour: tuple[int, int, int], k: float) -> tuple[int, int, int]:
    return (
        min(255, int(colour[0] * k)),
        min(255, int(colour[1] * k)),
        min(255, int(colour[2] * k)),
    )


def _box_corners(
    view: View, s: ActorState, length: float, width: float, h0: float, h1: float, back: float = 0.0
) -> list[Image]:
    """Pixel corners of a box on the actor's footprint: bottom (h0) and top (h1) rectangles;
    ``back`` shortens it from the front (a cabin sits behind the bonnet)."""
    c, sn = math.cos(s.heading), math.sin(s.heading)
    half_w = width / 2
    front, rear = length / 2 - back, -length / 2
    out = []
    for h in (h0, h1):
        pts = []
        for along, across in ((front, half_w), (front, -half_w), (rear, -half_w), (rear, half_w)):
            x = s.x + along * c - across * sn
            z = s.z + along * sn + across * c
            pts.append(view.px(x, max(z, 0.5), h))
        out.append(np.array(pts, dtype=np.float64))
    return out


def _fill_hull(img: Image, pts: Image, colour: tuple[int, int, int]) -> Image:
    ipts = np.rint(pts).astype(np.int32)
    hull = cv2.convexHull(ipts)
    cv2.fillConvexPoly(img, hull, colour, lineType=cv2.LINE_8)
    return ipts


def _box_of(points: Image, view: View) -> PixelBox | None:
    x1, y1 = points.min(axis=0)
    x2, y2 = points.max(axis=0)
    x1, y1 = max(int(x1), 0), max(int(y1), 0)
    x2, y2 = min(int(x2), view.width - 1), min(int(y2), view.height - 1)
    if x1 > x2 or y1 > y2:
        return None
    return (x1, y1, x2, y2)


def _clipped_box(parts: list[Image], view: View) -> PixelBox | None:
    """The box of the visible part of convex shapes that may reach out of the image."""
    whole = _box_of(np.vstack(parts), view)
    if whole is None:
        return None
    inside = np.vstack(parts)
    if inside.min() >= 0 and inside[:, 0].max() < view.width and inside[:, 1].max() < view.height:
        return whole
    frame = np.array(
        [(0, 0), (view.width - 1, 0), (view.width - 1, view.height - 1), (0, view.height - 1)],
        np.float32,
    )
    visible = []
    for pts in parts:
        hull = cv2.convexHull(pts.astype(np.float32))
        area, clipped = cv2.intersectConvexConvex(hull, frame)
        if area > 0 and clipped is not None:
            visible.append(clipped.reshape(-1, 2))
    return _box_of(np.rint(np.vstack(visible)), view) if visible else None


def car_beam(img: Image, view: View, s: ActorState, length: float, width: float) -> None:
    """The pool of a car's headlights on the road ahead (night): lighting, not the object."""
    c, sn = math.cos(s.heading), math.sin(s.heading)
    pts = []
    for along, across in ((length / 2, width / 2), (length / 2 + 14, width * 1.6)):
        for sign in (1, -1):
            x = s.x + along * c - sign * across * sn
            z = s.z + along * sn + sign * across * c
            if z < 1.0:
                return
            pts.append(view.px(x, z))
    quad = np.rint(np.array([pts[0], pts[1], pts[3], pts[2]])).astype(np.int32)
    cv2.fillConvexPoly(img, quad, BEAM)


def draw_car(
    img: Image,
    view: View,
    s: ActorState,
    size: tuple[float, float, float],
    colour: tuple[int, int, int],
    night: bool,
) -> PixelBox | None:
    length, width, height = size
    paint = _shade(colour, 0.45) if night else colour
    body = _box_corners(view, s, length, width, 0.0, height * 0.62)
    cabin = _box_corners(view, s, length, width * 0.9, height * 0.62, height, back=length * 0.3)
    body_pts = np.vstack(body)
    cabin_pts = np.vstack(cabin)
    _fill_hull(img, body_pts, paint)
    ibottom = np.rint(body[0]).astype(np.int32)
    cv2.fillConvexPoly(img, cv2.convexHull(ibottom), _shade(paint, 0.35))  # shadow and tyres
    _fill_hull(img, np.vstack([body[1], cabin[0]]), paint)
    _fill_hull(img, cabin_pts, (60, 52, 48) if not night else (28, 24, 22))
    _fill_hull(img, cabin[1], _shade(paint, 0.8))
    if night:
        facing_camera = math.sin(s.heading) < 0
        front = body[1][:2] if facing_camera else body[1][2:]
        lamp = HEADLIGHT if facing_camera else TAILLIGHT
        r = max(1, int(abs(front[0][0] - front[1][0]) * 0.12))
        for k in (0.2, 0.8):
            p = (1 - k) * front[0] + k * front[1]
            base = (1 - k) * body[0][0 if facing_camera else 2] + k * body[0][
                1 if facing_camera else 3
            ]
            centre = 0.6 * p + 0.4 * base
            cv2.circle(img, (round(centre[0]), round(centre[1])), r, lamp, -1)
    return _clipped_box([np.rint(body_pts), np.rint(cabin_pts)], view)


def draw_person(
    img: Image,
    view: View,
    s: ActorState,
    height_m: float,
    colour: tuple[int, int, int],
    night: bool,
) -> PixelBox | None:
    fu, fv = view.px(s.x, s.z)
    hp = view.focal_px * height_m / s.z
    coat = _shade(colour, 0.55) if night else colour
    trousers = (45, 40, 38) if not night else (25, 22, 20)
    skin = (120, 150, 190) if not night else (60, 75, 95)
    phase = s.distance / 0.75 * math.pi
    swing = math.sin(phase) * 0.13 * hp if s.speed > 0.05 else 0.0
    thick = max(1, round(0.07 * hp))
    hip = (fu, fv - 0.48 * hp)
    feet = ((fu + swing, fv), (fu - swing, fv))
    shoulder = (fu, fv - 0.80 * hp)
    hands = ((fu - swing * 0.8, fv - 0.45 * hp), (fu + swing * 0.8, fv - 0.45 * hp))
    head_r = max(1, round(0.065 * hp))
    head = (fu, fv - 0.90 * hp)
    torso_w = 0.13 * hp
    for foot in feet:
        cv2.line(img, ipt(hip), ipt(foot), trousers, thick)
    for hand in hands:
        cv2.line(img, ipt(shoulder), ipt(hand), coat, max(1, thick - 1))
    torso = np.array(
        [
            (fu - torso_w, shoulder[1]),
            (fu + torso_w, shoulder[1]),
            (fu + torso_w * 0.9, hip[1]),
            (fu - torso_w * 0.9, hip[1]),
        ]
    )
    cv2.fillConvexPoly(img, np.rint(torso).astype(np.int32), coat)
    cv2.circle(img, ipt(head), head_r, skin, -1)
    half = thick / 2
    xs = [fu - torso_w, fu + torso_w, feet[0][0] - half, feet[0][0] + half]
    xs += [feet[1][0] - half, feet[1][0] + half, head[0] - head_r, head[0] + head_r]
    xs += [hands[0][0] - half, hands[1][0] + half, hands[0][0] + half, hands[1][0] - half]
    ys = [head[1] - head_r, fv + half]
    pts = np.array([(min(xs), min(ys)), (max(xs), max(ys))])
    return _box_of(np.rint(pts), view)
