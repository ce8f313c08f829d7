"""When a public warning ends (cancelled, expired, or its area left the municipality), the
incidents it opened or joined get a note on their timeline saying so (docs/CAP.md). The incident
stays for an operator to close: a warning's end is information, not a decision."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine, select

from cityops.cap.book import Change, Outcome
from cityops.cap.events import event_id
from cityops.domain.incident import IncidentError
from cityops.services.incidents import OperatorContext, add_note
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import tables as t

log = logging.getLogger(__name__)
ACTOR = "CAP"
_WORDS = {
    Change.CANCELLED: "was cancelled",
    Change.EXPIRED: "expired",
    Change.LEFT: "no longer covers the municipality",
}


def note_end(db: Engine, rt: MunicipalityRuntime, outcome: Outcome, now: datetime) -> list[int]:
    """Note the end of ``outcome``'s warning on its incidents; returns their ids."""
    words = _WORDS.get(outcome.change)
    if words is None:
        return []
    warning = outcome.warning
    keys = [(warning.alert.sender, warning.alert.identifier), *warning.replaces]
    ids = [event_id(sender, identifier) for sender, identifier in keys]
    headline = warning.alert.infos[0].headline if warning.alert.infos else None
    text = f"Public warning {warning.alert.identifier} ({headline or 'no headline'}) {words}."
    noted: list[int] = []
    with db.begin() as conn:
        rows = conn.execute(
            select(t.incident_events.c.incident_id)
            .where(t.incident_events.c.municipality == rt.id)
            .where(t.incident_events.c.event_id.in_(ids))
            .distinct()
        ).scalars()
        for incident_id in sorted(set(rows)):
            ctx = OperatorContext(conn, rt, incident_id, ACTOR, now)
            try:
                add_note(ctx, text=text)
                noted.append(incident_id)
            except IncidentError as err:  # closed meanwhile: nothing to tell
                log.info("incident %s not noted: %s", incident_id, err)
    return noted
