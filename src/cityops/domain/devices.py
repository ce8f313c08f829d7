"""MQTT device credentials and what each may do: the one source of both brokers' rules.

A credential belongs to one municipality (or, for CityOps's own ingest and video workers, to the
whole installation) and to one kind of client; it may be narrowed to a list of the
municipality's devices (sensor and camera ids). :func:`grants` turns it into topic filters with
read or write access. ``cityops mqtt sync`` writes them as Mosquitto's ACL file and the
embedded broker checks them with :func:`may_publish` / :func:`may_subscribe` /
:func:`may_receive`, so the two brokers cannot drift apart. docs/MQTT.md "Authentication and
ACLs" has the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

ALL_MUNICIPALITIES = "_all"
"""Username prefix of an installation-wide credential (ids cannot start with ``_``)."""
WORKERS_TOPIC = "cityops/_workers"

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PREFIX_LEVEL = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class DeviceKind(StrEnum):
    GATEWAY = "gateway"
    """Sensors' readings: per sensor, and the batch topic when not narrowed to devices."""
    CAMERA = "camera"
    """A camera's (or an outside video system's) events."""
    SYSTEM = "system"
    """An outside system's events, ``cityops/<m>/events/<source>``."""
    WORKER = "worker"
    """A video worker: its cameras' events and detections, its counter sensors' readings, its
    presence."""
    FRIGATE = "frigate"
    """A Frigate: everything under its own topic prefix."""
    INTEGRATION = "integration"
    """Every inbound topic of the municipality (simulator, replay, a trusted bridge)."""
    INGEST = "ingest"
    """CityOps's own ingest: reads every inbound topic, publishes incidents."""
    TRACKER = "tracker"
    """A vulnerable person's device: its position and SOS (``cityops/<m>/persons/<d>/...``)."""
    AGENCY = "agency"
    """An agency's system (112, 119): location requests on ``cityops/<m>/agency/<a>/requests``,
    its answers under ``.../responses/#``, for each agency id it lists (at least one)."""


INSTALLATION_KINDS = frozenset({DeviceKind.WORKER, DeviceKind.INGEST})
"""Kinds that may be installation-wide (no municipality)."""
SCOPED_KINDS = frozenset(
    {DeviceKind.GATEWAY, DeviceKind.CAMERA, DeviceKind.SYSTEM, DeviceKind.WORKER}
    | {DeviceKind.TRACKER}
    | {DeviceKind.INTEGRATION, DeviceKind.AGENCY}
)
"""Kinds that may be narrowed to a list of devices."""


class Access(StrEnum):
    READ = "read"  # subscribe and receive
    WRITE = "write"  # publish


@dataclass(frozen=True, slots=True)
class Grant:
    access: Access
    topic: str
    """An MQTT topic filter (``+`` and ``#`` allowed)."""


@dataclass(frozen=True, slots=True)
class DeviceScope:
    """What a credential is for; its username is :func:`username`."""

    name: str
    kind: DeviceKind
    municipality: str | None
    devices: tuple[str, ...] = ()
    """Empty: every device of the municipality."""
    prefix: str | None = None
    """A Frigate's topic prefix."""

    @property
    def username(self) -> str:
        return username(self.municipality, self.name)


class ScopeError(ValueError):
    """A credential that cannot be made as asked (the message says why)."""


def username(municipality: str | None, name: str) -> str:
    """``<municipality>.<name>``, or ``_all.<name>`` for an installation-wide credential."""
    return f"{municipality or ALL_MUNICIPALITIES}.{name}"


def check_scope(scope: DeviceScope) -> DeviceScope:
    """The scope itself, or ScopeError: ids are topic-safe, the kind allows what is asked."""
    for what, value in (("name", scope.name), *(("device", d) for d in scope.devices)):
        if not _ID.fullmatch(value):
            raise ScopeError(
                f"{what} {value!r}: 1-64 lowercase letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
    if scope.municipality is None:
        if scope.kind not in INSTALLATION_KINDS:
            raise ScopeError(f"a {scope.kind} credential belongs to one municipality")
    elif not _ID.fullmatch(scope.municipality):
        raise ScopeError(f"municipality {scope.municipality!r} is not an id")
    if scope.devices and scope.kind not in SCOPED_KINDS:
        raise ScopeError(f"a {scope.kind} credential cannot be narrowed to devices")
    if scope.kind is DeviceKind.AGENCY and not scope.devices:
        raise ScopeError("an agency credential names its agency (a device: the agency's id)")
    if scope.municipality is None and scope.devices:
        raise ScopeError("an installation-wide credential cannot be narrowed to devices")
    if scope.kind is DeviceKind.FRIGATE:
        check_prefix(scope.prefix)
    elif scope.prefix is not None:
        raise ScopeError("only a Frigate credential has a topic prefix")
    return scope


def check_prefix(prefix: str | None) -> str:
    """A Frigate's topic prefix as its configuration allows one (``frigate``,
    ``site-a/frigate``), never under ``cityops/``: the credential owns everything below it."""
    if prefix is None or len(prefix) > 200:
        raise ScopeError("a Frigate credential needs its topic prefix (at most 200 characters)")
    levels = prefix.split("/")
    if not all(_PREFIX_LEVEL.fullmatch(level) for level in levels):
        raise ScopeError(
            f"prefix {prefix!r}: topic levels of letters, digits, '_', '.' or '-', no wildcards"
        )
    if levels[0] == "cityops":
        raise ScopeError("a Frigate prefix cannot be under cityops/ (CityOps's own topics)")
    return prefix


def prefixes_overlap(a: str, b: str) -> bool:
    """Whether two Frigate prefixes share topics (one is the other or lies under it)."""
    return filter_covers(f"{a}/#", b) or filter_covers(f"{b}/#", a)


def grants(scope: DeviceScope, frigate_prefixes: Iterable[str] = ()) -> tuple[Grant, ...]:
    """What the credential may read and write. ``frigate_prefixes``: the Frigate prefixes of
    the municipalities an ingest credential serves (it reads their ``<prefix>/events``)."""
    m = f"cityops/{scope.municipality or '+'}"
    ids = scope.devices or ("+",)
    w, r = Access.WRITE, Access.READ
    readings = [Grant(w, f"{m}/sensors/{d}/readings") for d in ids]
    batch = [] if scope.devices else [Grant(w, f"{m}/readings")]
    cameras = [Grant(w, f"{m}/cameras/{d}/events") for d in ids]
    detections = [Grant(w, f"{m}/cameras/{d}/detections") for d in ids]
    systems = [Grant(w, f"{m}/events/{d}") for d in ids]
    cap = [] if scope.devices else [Grant(w, f"{m}/cap")]  # CAP alerts (docs/CAP.md)
    match scope.kind:
        case DeviceKind.GATEWAY:
            out = readings + batch
        case DeviceKind.CAMERA:
            out = cameras
        case DeviceKind.SYSTEM:
            out = systems + cap
        case DeviceKind.WORKER:
            presence = [
                Grant(w, f"{WORKERS_TOPIC}/{scope.username}"),
                Grant(r, f"{WORKERS_TOPIC}/+"),
            ]
            out = cameras + detections + readings + presence
        case DeviceKind.FRIGATE:
            out = [Grant(r, f"{scope.prefix}/#"), Grant(w, f"{scope.prefix}/#")]
        case DeviceKind.TRACKER:  # docs/AGENCIES.md "SOS of vulnerable people"
            out = [Grant(w, f"{m}/persons/{d}/{k}") for d in ids for k in ("position", "sos")]
        case DeviceKind.AGENCY:  # docs/AGENCIES.md "Location requests"
            out = [Grant(w, f"{m}/agency/{a}/requests") for a in ids]
            out += [Grant(r, f"{m}/agency/{a}/responses/#") for a in ids]
        case DeviceKind.INTEGRATION:
            out = readings + batch + cameras + systems + cap
        case DeviceKind.INGEST:
            inbound = (
                "sensors/+/readings",
                "readings",
                "cameras/+/events",
                "cameras/+/detections",
                "events/+",
                "persons/+/position",
                "persons/+/sos",
                "agency/+/requests",
                "cap",
            )
            out = [Grant(r, f"{m}/{t}") for t in inbound]
            out += [Grant(r, f"{p}/events") for p in sorted(set(frigate_prefixes))]
            out.append(Grant(w, f"{m}/incidents/+"))
            out.append(Grant(w, f"{m}/agency/+/responses/#"))
    return tuple(out)


def filter_covers(grant: str, sub: str) -> bool:
    """True when every topic that filter ``sub`` matches is matched by filter ``grant``.

    For a topic (no wildcards) this is MQTT's ordinary matching. Topics starting with ``$``
    are never covered by a grant starting with a wildcard (MQTT 4.7.2).
    """
    g, s = grant.split("/"), sub.split("/")
    if sub.startswith("$") and g[0] in ("+", "#"):
        return False
    for i, level in enumerate(g):
        if level == "#":
            return i == len(g) - 1
        if i >= len(s) or s[i] == "#":
            return False
        if level != "+" and level != s[i]:
            return False
    return len(s) == len(g)


def _allowed(granted: Sequence[Grant], access: Access, topic: str) -> bool:
    return any(g.access is access and filter_covers(g.topic, topic) for g in granted)


def may_publish(granted: Sequence[Grant], topic: str) -> bool:
    return "+" not in topic and "#" not in topic and _allowed(granted, Access.WRITE, topic)


def may_subscribe(granted: Sequence[Grant], topic_filter: str) -> bool:
    return _allowed(granted, Access.READ, topic_filter)


def may_receive(granted: Sequence[Grant], topic: str) -> bool:
    return _allowed(granted, Access.READ, topic)
