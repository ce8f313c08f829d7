"""Synthetic camera scenes, as named by a ``synthetic://`` stream URL, and their scripted
happenings.

CityOps renders its own camera pictures for the demo and the tests (``cityops.video.synthetic``).
The URL says which scene, with which random seed, by day or by night, and when the scene's
script runs (the accident at the crossing, the intruder in the school yard). The schedule is a
pure function of the URL and the time, so the renderer, a worker that takes a camera over after
another died, and the simulator that knows when the demo's accident happens all agree on it
without talking to each other.

    synthetic://crossing?seed=3&night=auto&tz=Europe/Sofia&every=1200&offset=600

Times are UNIX seconds (UTC). ``every``/``offset``: the script starts at ``offset + k * every``
for every whole ``k``; ``at``: comma-separated one-off start times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCHEME = "synthetic"
NIGHT_FROM = time(20, 0)
NIGHT_UNTIL = time(6, 30)
"""With ``night=auto``: dark between these local times."""


class SceneKind(StrEnum):
    CROSSING = "crossing"
    """Two roads crossing, traffic both ways, pedestrians on the crosswalk; script: accident."""
    SCHOOLYARD = "schoolyard"
    """A fenced school yard beyond a quiet street; script: an intruder walks in and lingers."""
    STREET = "street"
    """A street across the view with cars and pedestrians; no script."""


SCRIPT_DURATION_S: dict[SceneKind, float] = {
    SceneKind.CROSSING: 330.0,
    SceneKind.SCHOOLYARD: 300.0,
    SceneKind.STREET: 0.0,
}
"""How long a scene's script lasts from its start (0: the scene has none)."""

_KEYS = frozenset({"seed", "night", "tz", "every", "offset", "at"})


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """What a ``synthetic://`` URL asks for."""

    scene: SceneKind
    seed: int = 0
    night: bool | None = False
    """None: dark by the local time in ``timezone`` (``night=auto``)."""
    timezone: str = "UTC"
    every_s: float | None = None
    offset_s: float = 0.0
    at: tuple[float, ...] = ()

    @classmethod
    def parse(cls, url: str) -> SceneSpec:
        """The spec of ``url``; ValueError says what is wrong with it."""
        parts = urlsplit(url)
        if parts.scheme != SCHEME:
            raise ValueError(f"not a {SCHEME}:// URL")
        try:
            scene = SceneKind(parts.netloc)
        except ValueError:
            known = ", ".join(k.value for k in SceneKind)
            raise ValueError(f"unknown scene {parts.netloc!r} (one of {known})") from None
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
        unknown = sorted(set(query) - _KEYS)
        if unknown:
            raise ValueError(
                f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
            )
        one = {k: v[-1] for k, v in query.items()}
        spec = cls(
            scene=scene,
            seed=_int(one.get("seed", "0"), "seed"),
            night=_night(one.get("night", "0")),
            timezone=_zone(one.get("tz", "UTC")),
            every_s=_number(one["every"], "every") if "every" in one else None,
            offset_s=_number(one.get("offset", "0"), "offset"),
            at=tuple(_number(v, "at") for v in one.get("at", "").split(",") if v.strip()),
        )
        if spec.every_s is not None and spec.every_s < SCRIPT_DURATION_S[scene]:
            raise ValueError(
                f"every={spec.every_s:g} is shorter than the {scene} script "
                f"({SCRIPT_DURATION_S[scene]:g} s)"
            )
        return spec

    def url(self) -> str:
        query: dict[str, str] = {"seed": str(self.seed)}
        query["night"] = "auto" if self.night is None else str(int(self.night))
        if self.timezone != "UTC":
            query["tz"] = self.timezone
        if self.every_s is not None:
            query["every"] = f"{self.every_s:g}"
            query["offset"] = f"{self.offset_s:g}"
        if self.at:
            query["at"] = ",".join(f"{a:g}" for a in self.at)
        return f"{SCHEME}://{self.scene.value}?{urlencode(query, safe='/,')}"

    def is_night(self, t: float) -> bool:
        if self.night is not None:
            return self.night
        local = datetime.fromtimestamp(t, UTC).astimezone(ZoneInfo(self.timezone)).time()
        return local >= NIGHT_FROM or local < NIGHT_UNTIL

    def script_starts(self, t0: float, t1: float) -> list[float]:
        """Start times ``s`` of the scene's script with ``t0 <= s < t1``, in order."""
        if SCRIPT_DURATION_S[self.scene] <= 0.0:
            return []
        starts = [a for a in self.at if t0 <= a < t1]
        if self.every_s is not None:
            k = math.ceil((t0 - self.offset_s) / self.every_s)
            while (s := self.offset_s + k * self.every_s) < t1:
                starts.append(s)
                k += 1
        return sorted(set(starts))

    def scripts_running(self, t: float) -> list[float]:
        """Start times of the scripts still under way at ``t``."""
        return self.script_starts(t - SCRIPT_DURATION_S[self.scene], t + 1e-9)


def is_synthetic(url: str | None) -> bool:
    return url is not None and url.startswith(f"{SCHEME}://")


def _int(text: str, key: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {text[:20]!r}") from None
    if not 0 <= value < 2**31:
        raise ValueError(f"{key} must be between 0 and 2**31 - 1")
    return value


def _number(text: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key} must be a number of seconds, not {text[:20]!r}") from None
    if not math.isfinite(value) or abs(value) > 1e11:
        raise ValueError(f"{key} must be a finite number of seconds")
    if key == "every" and value <= 0.0:
        raise ValueError("every must be positive")
    return value


def _night(text: str) -> bool | None:
    if text in ("0", "1"):
        return text == "1"
    if text == "auto":
        return None
    raise ValueError(f"night must be 0, 1 or auto, not {text[:20]!r}")


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {text[:40]!r}") from None
    return text
