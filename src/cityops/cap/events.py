"""A warning entering the rule engine as an outside event the rules already understand: a
``correlation`` rule on kind ``public_warning`` with ``min_count: 1`` opens one incident per
warning (its dedup key follows the alert's place), as it does for any outside event."""

from __future__ import annotations

from cityops.cap.book import Change, Outcome
from cityops.domain.observations import Event, EventSource

KIND = "public_warning"
"""The event kind of a warning that opened or was updated here."""


def event_id(sender: str, identifier: str) -> str:
    """The id of the event a warning entered as (stored once per id)."""
    return f"cap:{sender}:{identifier}"[:200]


def as_event(outcome: Outcome, municipality: str) -> Event | None:
    """The event for an opened or updated warning (None for a closing change: the warning's
    end is shown on the map and noted, it does not raise anything)."""
    if outcome.change not in {Change.OPENED, Change.UPDATED}:
        return None
    alert = outcome.warning.alert
    info = alert.infos[0] if alert.infos else None
    attributes = {
        "cap_sender": alert.sender,
        "cap_identifier": alert.identifier,
        "msg_type": alert.msg_type,
        "status": alert.status,
    }
    if info is not None:
        attributes |= {
            "event": info.event,
            "severity": info.severity,
            "urgency": info.urgency,
            "certainty": info.certainty,
            "headline": info.headline or info.event,
        }
    return Event(
        municipality=municipality,
        event_id=event_id(alert.sender, alert.identifier),
        source=EventSource.EXTERNAL,
        source_id=f"cap:{alert.sender}"[:200],
        kind=KIND,
        ts=alert.sent,
        position=outcome.warning.position,
        attributes=attributes,
    )
