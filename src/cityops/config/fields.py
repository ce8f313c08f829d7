"""Scalar field types of the configuration file: ids, texts, URLs, durations, time windows.

Each type is an ``Annotated`` alias that Pydantic validates; the parsers raise ``ValueError``
with a message written for the person editing the YAML file.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from datetime import time
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from shapely.validation import explain_validity

from cityops.domain.scenes import SCHEME as SYNTHETIC_SCHEME
from cityops.domain.scenes import SceneSpec

MAX_DURATION_S = 30 * 24 * 3600.0
"""The longest duration a rule may name (30 days)."""

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            "must be 1-64 characters of lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def _check_chars(value: str, *, newlines: bool) -> str:
    for i, ch in enumerate(value):
        category = unicodedata.category(ch)
        if ch == "\n" and newlines:
            continue
        if category in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            raise ValueError(f"contains control character U+{ord(ch):04X} at position {i + 1}")
    return value


def check_line(value: str) -> str:
    return _check_chars(value, newlines=False)


def check_paragraph(value: str) -> str:
    return _check_chars(value, newlines=True)


TITLE_FIELDS = ("name", "subject", "value")
"""Placeholders an incident title may use: the sensor's or camera's name, the rule's subject
(sensor or camera id) and the value that triggered it: ``"River high at {name}: {value} m"``."""


def check_title_template(value: str) -> str:
    allowed = ", ".join("{" + f + "}" for f in TITLE_FIELDS)
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as err:
        raise ValueError(
            f"unbalanced braces (write a literal brace as '{{{{' or '}}}}'): {err}"
        ) from err
    for _, field, spec, conversion in parts:
        if field is not None and (field not in TITLE_FIELDS or spec or conversion):
            raise ValueError(f"a title may use only the placeholders {allowed}")
    return value


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Europe/Sofia')"
        ) from err
    return value


def _url_checker(schemes: frozenset[str]) -> Callable[[str], str]:
    allowed = ", ".join(sorted(schemes))

    def check(value: str) -> str:
        check_line(value)
        if any(ch.isspace() for ch in value):
            raise ValueError("a URL must not contain spaces")
        parts = urlsplit(value)
        if parts.scheme.lower() not in schemes:
            raise ValueError(f"URL scheme must be one of: {allowed}")
        if parts.scheme == SYNTHETIC_SCHEME:
            SceneSpec.parse(value)  # says what is wrong with it
            return value
        if parts.scheme.lower() != "file" and not parts.hostname:
            raise ValueError("URL has no host")
        return value

    return check


def matching(pattern: str, message: str) -> Callable[[str], str]:
    """A validator: the whole value matches ``pattern``, or ``message`` says what it should be."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(message)
        return value

    return check


check_email = matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "not an e-mail address")
check_phone = matching(
    r"\+?[0-9][0-9 ()/-]{1,24}",
    "a phone number has digits, spaces, '()/-' and an optional leading '+'",
)


_DURATION_RE = re.compile(
    r"(?:(?P<d>\d+(?:\.\d+)?)\s*d)?\s*"
    r"(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*"
    r"(?:(?P<min>\d+(?:\.\d+)?)\s*min)?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*s)?"
)
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "min": 60.0, "s": 1.0}
_DURATION_HELP = "write a duration such as '30s', '10min', '2h', '1h30min' or a number of seconds"


def parse_duration(value: object) -> float:
    """Seconds from ``30s``, ``10min``, ``2h``, ``1d``, ``1h30min`` or a plain number of seconds.

    Units come largest first, each at most once; ``m`` is refused as ambiguous.
    """
    if isinstance(value, bool):
        raise ValueError(_DURATION_HELP)
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(_DURATION_HELP)
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None or not any(match.groupdict().values()):
        hint = " ('m' is ambiguous: write minutes as 'min')" if text.endswith("m") else ""
        raise ValueError(f"{_DURATION_HELP}{hint}, not {text[:40]!r}")
    return sum(
        float(amount) * _UNIT_SECONDS[unit]
        for unit, amount in match.groupdict().items()
        if amount is not None
    )


def format_duration(seconds: float) -> str:
    """``5400`` -> ``1h30min``: the inverse of ``parse_duration`` for whole seconds."""
    rest = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


_BETWEEN_RE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def parse_between(value: object) -> tuple[time, time]:
    """A local time-of-day window ``"22:00-06:00"`` (it may wrap midnight)."""
    help_text = "write a time window as 'HH:MM-HH:MM', e.g. '22:00-06:00'"
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(help_text)
    match = _BETWEEN_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(help_text)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{help_text}; hours are 00-23 and minutes 00-59")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError("the window starts and ends at the same time: leave 'between' out")
    return start, end


Id = Annotated[str, Strict(), AfterValidator(check_id)]
"""An identifier: lowercase letters, digits, '-' and '_' (``tundzha-flood-level``)."""

EventKind = Id
"""A detection or event kind, as video workers and outside systems send it (``person``)."""

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_line),
]
TitleTemplate = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_line),
    AfterValidator(check_title_template),
]
"""An incident title, with optional placeholders ``{name}``, ``{subject}``, ``{value}``."""
Paragraph = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(check_paragraph),
]
Unit = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    AfterValidator(check_line),
]
TimeZone = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(check_line),
    AfterValidator(check_timezone),
]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(check_email)]
Phone = Annotated[str, StringConstraints(max_length=26), AfterValidator(check_phone)]
StreamUrl = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(
        _url_checker(frozenset({"rtsp", "rtsps", "http", "https", "file", SYNTHETIC_SCHEME}))
    ),
]
"""A camera stream: RTSP, HTTP(S), a file, or a scene CityOps renders itself
(``synthetic://crossing?seed=1``, see ``cityops.domain.scenes``)."""
WebhookUrl = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(_url_checker(frozenset({"http", "https"}))),
]

Number = Annotated[float, Strict()]
Lon = Annotated[float, Strict(), Field(ge=-180.0, le=180.0)]
Lat = Annotated[float, Strict(), Field(ge=-90.0, le=90.0)]
Fraction = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
PositiveNumber = Annotated[float, Strict(), Field(gt=0.0)]
Heading = Annotated[float, Strict(), Field(ge=0.0, lt=360.0)]
"""Compass bearing in degrees: 0 north, 90 east."""
FieldOfView = Annotated[float, Strict(), Field(gt=0.0, le=360.0)]
Importance = Annotated[int, Strict(), Field(ge=0, le=5)]
"""How much a place matters to a sector: 0 (not at all) to 5 (critical)."""
Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0.0, le=MAX_DURATION_S)]
"""Seconds, written ``10min``, ``30s``, ``2h``, ``1h30min`` or as a number of seconds."""
PositiveDuration = Annotated[
    float, BeforeValidator(parse_duration), Field(gt=0.0, le=MAX_DURATION_S)
]
TimeWindow = Annotated[tuple[time, time], BeforeValidator(parse_between)]


def _polygon_area_nonzero(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if shapely.MultiPoint(points).convex_hull.area < 1e-9:
        raise ValueError("the polygon has no area (its points are on one line)")
    return points


def _polygon_simple(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    polygon = shapely.Polygon(points)
    if not polygon.is_valid:
        reason = explain_validity(polygon)
        where = re.search(r"\[([-0-9.e]+) ([-0-9.e]+)\]", reason)
        at = f" at ({float(where[1]):.3g}, {float(where[2]):.3g})" if where else ""
        raise ValueError(
            f"the polygon's edges cross{at}: list its points in order around its outline"
        )
    return points


ImagePolygon = Annotated[
    list[tuple[Fraction, Fraction]],
    Field(min_length=3, max_length=64),
    AfterValidator(_polygon_area_nonzero),
    AfterValidator(_polygon_simple),
]
"""A polygon in image fractions: [[x, y], ...], x to the right and y down, both 0..1."""
