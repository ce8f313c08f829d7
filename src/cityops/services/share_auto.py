"""Shares made by the ``sharing.auto`` rules when an incident of a configured type opens
(docs/AGENCIES.md "Shares"); called by :func:`services.incidents.apply_trigger` in the
transaction that opens the incident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from cityops.domain.entities import LonLat
from cityops.domain.shares import Share, ShareError, ShareOrigin
from cityops.services import shares
from cityops.services.runtime import MunicipalityRuntime

AUTO_ACTOR = "sharing:auto"


def auto_share(
    conn: Connection,
    rt: MunicipalityRuntime,
    incident_id: int,
    incident_type: str,
    place: LonLat | None,
    now: datetime,
) -> list[Share]:
    """The shares the ``sharing.auto`` rules make for a newly opened incident of
    ``incident_type`` (none without a place). Recipients use their liaison account; an operator
    can give them a link (shares.reissue_link). A rule the configuration no longer satisfies
    (agency removed) is skipped, never fatal to the incident."""
    if place is None:
        return []
    made: list[Share] = []
    for rule in rt.config.sharing.auto_for(incident_type):
        try:
            new = shares.create(
                conn,
                rt,
                agency=rule.agency,
                purpose=rule.purpose,
                minutes=rule.minutes,
                actor=AUTO_ACTOR,
                now=now,
                public_url="",
                incident_id=incident_id,
                place=place,
                origin=ShareOrigin.AUTO,
            )
        except ShareError:
            continue
        made.append(new.share)
    return made
