"""CAP alerts into the ingest pipeline: each alert (from a file, a polled feed or an MQTT
message) is checked, applied to every municipality's book of warnings in force, and what opens
or updates a warning there enters the pipeline as an outside event on
``cityops/<municipality>/events/cap`` (kind ``public_warning``), the path every outside event
takes: stored once per id, seen by the rules (docs/CAP.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cityops.cap.book import AlertBook, Outcome
from cityops.cap.check import Verdict, check
from cityops.cap.events import as_event
from cityops.ingest.worker import InboundMessage

SOURCE_ID = "cap"


@dataclass(frozen=True)
class Intake:
    verdict: Verdict
    outcomes: Mapping[str, list[Outcome]]  # municipality -> what changed there
    messages: list[InboundMessage]  # to submit to the pipeline


def event_message(
    outcome: Outcome, municipality: str, received_at: datetime
) -> InboundMessage | None:
    event = as_event(outcome, municipality)
    if event is None or event.position is None:
        return None
    doc = {
        "id": event.event_id,
        "kind": event.kind,
        "lon": event.position.lon,
        "lat": event.position.lat,
        "attributes": {**event.attributes, "cap_sent": event.ts.isoformat()},
    }
    topic = f"cityops/{municipality}/events/{SOURCE_ID}"
    return InboundMessage(topic, json.dumps(doc).encode(), received_at, source=SOURCE_ID)


class CapIntake:
    """The books of every municipality that takes CAP alerts."""

    def __init__(self, books: Mapping[str, AlertBook]) -> None:
        self.books = dict(books)

    def accept(self, data: bytes, now: datetime) -> Intake:
        verdict = check(data)
        outcomes: dict[str, list[Outcome]] = {}
        messages: list[InboundMessage] = []
        if verdict.alert is not None:
            for mid, book in self.books.items():
                changed = book.apply(verdict.alert, now, verdict.signature_text())
                if changed:
                    outcomes[mid] = changed
                messages += [m for o in changed if (m := event_message(o, mid, now))]
        return Intake(verdict, outcomes, messages)

    def expire(self, now: datetime) -> dict[str, list[Outcome]]:
        return {mid: gone for mid, book in self.books.items() if (gone := book.expire(now))}
