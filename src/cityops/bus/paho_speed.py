"""paho-mqtt's decoding of a received packet's MQTT 5 properties, without rebuilding paho's
property tables for every packet.

paho 2.2 decodes every received PUBLISH (and PUBACK, SUBACK, ...) into a fresh ``Properties``
object. Its ``__init__`` rebuilds three tables each time (the 27 property names, their value
types and the packets each may appear in: two dicts and a list), and ``unpack`` then "clears"
the fresh object by probing all 27 names. Measured on a PUBLISH without properties (what
gateways send): 17 µs to decode with paho's class, 3.6 µs with :class:`SharedTableProperties`;
paho's took 16 % of the server's GIL time storing single-reading messages (docs/BENCHMARKS.md).

:class:`SharedTableProperties` is paho's class with those tables built once and shared (paho
never changes them after construction) and a ``clear`` that removes exactly the attributes
paho's removes. :func:`install` makes paho's packet decoder (``paho.mqtt._packet``) build it;
nothing else of paho changes, and what it decodes is equal, attribute for attribute, to what
paho's own class decodes (tests/ingest/test_paho_speed.py: Hypothesis over every property a
PUBLISH may carry, and over malformed ones).

The decoder module is private to paho, so :func:`install` acts only on the paho version it was
checked against (:data:`CHECKED_PAHO`) and only while that module still builds its properties
through the name it replaces; otherwise paho stays as it is (correct, only slower) and the
reason is logged once. The test of the pinned version fails when an upgrade needs a new look.
"""

from __future__ import annotations

import logging
import threading

import paho.mqtt
from paho.mqtt import _packet
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

CHECKED_PAHO = "2.2.0"
"""The paho-mqtt release whose ``_packet`` module and ``Properties`` class this was written
against (pyproject.toml pins it)."""

_TABLES = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
_PRIVATE = ("packetType", "types", "names", "properties")
"""The instance attributes paho's ``Properties.__setattr__`` treats as its own, not as
properties (its ``privateVars``)."""
_PROPERTY_ATTRS = frozenset(name.replace(" ", "") for name in _TABLES.names)
"""The attribute names under which a property is set (paho's "compressed" names)."""

_lock = threading.Lock()
_state: dict[str, bool | str] = {"installed": False, "refused": ""}


class SharedTableProperties(Properties):
    """paho's ``Properties`` whose lookup tables are shared by every instance (built once, read
    only) instead of rebuilt for each packet; everything else is paho's."""

    def __init__(self, packetType: int) -> None:  # noqa: N803 (paho's name)
        # paho's __setattr__ routes these four names to object.__setattr__ as well
        d = self.__dict__
        d["packetType"] = packetType
        d["types"] = _TABLES.types
        d["names"] = _TABLES.names
        d["properties"] = _TABLES.properties

    def clear(self) -> None:
        """Remove every property set on this object (paho's ``clear`` probes all 27 names)."""
        d = self.__dict__
        if len(d) > len(_PRIVATE):
            for name in [k for k in d if k in _PROPERTY_ATTRS]:
                delattr(self, name)


def install() -> bool:
    """Make paho's packet decoder build :class:`SharedTableProperties`; whether it does now.
    Idempotent and safe from any thread."""
    with _lock:
        if _state["installed"]:
            return True
        problem = _refusal()
        if problem:
            if problem != _state["refused"]:
                log.warning("paho-mqtt left as it is (slower MQTT 5 properties): %s", problem)
                _state["refused"] = problem
            return False
        setattr(_packet, "Properties", SharedTableProperties)  # noqa: B010 (private to paho)
        _state["installed"] = True
        return True


def _refusal() -> str:
    """Why :func:`install` must not touch paho, or ``""``."""
    version = getattr(paho.mqtt, "__version__", "?")
    if version != CHECKED_PAHO:
        return f"paho-mqtt {version} installed, {CHECKED_PAHO} checked"
    if getattr(_packet, "Properties", None) is not Properties:
        return "paho.mqtt._packet no longer decodes properties through paho.mqtt.properties"
    if set(vars(_TABLES)) != set(_PRIVATE):
        return "paho's Properties keeps other state than its tables"
    return ""
