"""An SOS and a geofence exit each raise ONE incident that follows the person as positions
arrive, without flooding its timeline; unknown devices and bad payloads are dead letters."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from cityops.domain.entities import LonLat
from cityops.domain.persons import Person, PersonKind
from cityops.ingest.persons import prune_tracks
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.services import persons
from cityops.services.live import LiveKind, LiveMessage, PersonPayload
from cityops.store import tables as t
from cityops.store.tables_persons import person_positions
from tests.persons.conftest import INSIDE, OUTSIDE, child
from tests.town import MUNI, FrozenClock


def send(
    pipeline: IngestPipeline,
    clock: FrozenClock,
    kind: str,
    doc: Any,
    device: str = "tracker-1",
) -> MessageOutcome:
    got: list[MessageOutcome] = []
    payload = json.dumps(doc).encode()
    topic = f"cityops/{MUNI}/persons/{device}/{kind}"
    pipeline.process([InboundMessage(topic, payload, clock.now, done=got.append)])
    assert len(got) == 1
    return got[0]


def at(place: LonLat, clock: FrozenClock, **extra: Any) -> dict[str, Any]:
    return {"lon": place.lon, "lat": place.lat, "ts": clock.now.isoformat(), **extra}


def incidents(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        q = select(t.incidents).order_by(t.incidents.c.id)
        return [dict(r) for r in conn.execute(q).mappings()]


def timeline(db: Engine, incident_id: int) -> list[str]:
    with db.connect() as conn:
        q = (
            select(t.incident_timeline.c.text)
            .where(t.incident_timeline.c.incident_id == incident_id)
            .order_by(t.incident_timeline.c.id)
        )
        return [str(x) for x in conn.execute(q).scalars()]


def test_leaving_the_safe_area_opens_one_incident_that_follows_the_person(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    for _ in range(3):  # inside: nothing to do but keep the track
        assert send(pipeline, clock, "position", at(INSIDE, clock)).accepted == 1
        clock.advance(seconds=30)
    assert incidents(db) == []
    path = [LonLat(OUTSIDE.lon + i * 0.0004, OUTSIDE.lat + i * 0.0002) for i in range(12)]
    for place in path:
        send(pipeline, clock, "position", at(place, clock))
        clock.advance(seconds=20)
    [incident] = incidents(db)
    assert incident["type"] == "person_left_area"
    assert incident["dedup_key"] == f"sos|{maria.id}"
    assert incident["severity"] == "severe"  # a child
    assert (incident["lon"], incident["lat"]) == (path[-1].lon, path[-1].lat)  # it followed
    entries = timeline(db, incident["id"])
    assert len(entries) == 1, entries  # twelve positions, one entry: no flood
    assert "left the safe area" in entries[0]
    assert "Maria P." in entries[0]
    track = [m.payload for m in seen if m.kind is LiveKind.PERSON]
    assert len(track) == 15
    assert all(isinstance(p, PersonPayload) and p.person_id == maria.id for p in track)
    assert [p.inside for p in track if isinstance(p, PersonPayload)] == [True] * 3 + [False] * 12
    last = track[-1]
    assert isinstance(last, PersonPayload)
    assert last.incident_id == incident["id"]
    # back inside, then out again, minutes apart: one entry each, still the same incident
    clock.advance(minutes=5)
    send(pipeline, clock, "position", at(INSIDE, clock))
    clock.advance(minutes=5)
    send(pipeline, clock, "position", at(OUTSIDE, clock))
    assert len(incidents(db)) == 1
    entries = timeline(db, incident["id"])
    assert len(entries) == 3
    assert "back inside" in entries[1]
    assert "left the safe area" in entries[2]


def test_an_sos_opens_one_incident_with_the_nearest_cameras_and_repeats_do_not_flood(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    assert send(pipeline, clock, "sos", at(INSIDE, clock)).accepted == 1
    [incident] = incidents(db)
    assert incident["type"] == "person_sos"
    assert incident["title"] == "SOS: Maria P."
    cams = [c["camera_id"] for c in incident["cameras"]]
    assert cams[:2] == ["cam-a", "cam-b"] or cams[:2] == ["cam-b", "cam-a"]
    assert all(c["sees"] for c in incident["cameras"][:2])
    for _ in range(10):  # the button held down: an SOS every 10 s
        clock.advance(seconds=10)
        send(pipeline, clock, "sos", at(INSIDE, clock))
    for i in range(5):  # and positions as the child is carried away
        clock.advance(seconds=20)
        send(pipeline, clock, "position", at(LonLat(OUTSIDE.lon + i * 1e-4, OUTSIDE.lat), clock))
    assert len(incidents(db)) == 1
    entries = timeline(db, incident["id"])  # the SOS, and the safe area left (once)
    assert len(entries) == 2, entries
    assert "SOS pressed" in entries[0]
    assert "left the safe area" in entries[1]
    clock.advance(minutes=6)  # an SOS again after a while is worth one more entry
    send(pipeline, clock, "sos", {"ts": clock.now.isoformat()})  # no position known
    assert len(timeline(db, incident["id"])) == 3
    with db.connect() as conn:
        points = conn.execute(select(func.count()).select_from(person_positions)).scalar()
    assert points == 17


def test_a_new_episode_after_the_operators_closed_the_last(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    send(pipeline, clock, "sos", at(INSIDE, clock))
    [first] = incidents(db)
    with db.begin() as conn:
        conn.execute(
            t.incidents.update().where(t.incidents.c.id == first["id"]).values(status="closed")
        )
    clock.advance(minutes=1)
    send(pipeline, clock, "position", at(INSIDE, clock))  # inside: still closed, no new one
    assert len(incidents(db)) == 1
    send(pipeline, clock, "sos", at(INSIDE, clock))
    assert len(incidents(db)) == 2


def test_an_older_buffered_position_is_kept_but_does_not_move_the_incident(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    send(pipeline, clock, "sos", at(OUTSIDE, clock))
    early = clock.now
    clock.advance(minutes=2)
    late = {"lon": INSIDE.lon, "lat": INSIDE.lat, "ts": (early - timedelta(minutes=1)).isoformat()}
    assert send(pipeline, clock, "position", late).accepted == 1
    [incident] = incidents(db)
    assert (incident["lon"], incident["lat"]) == (OUTSIDE.lon, OUTSIDE.lat)


def test_unknown_devices_and_bad_payloads_are_dead_letters(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    buffered = {"positions": [at(OUTSIDE, clock), at(OUTSIDE, clock)]}
    out = send(pipeline, clock, "position", buffered, device="nobodys-tracker")
    assert out.accepted == 0
    assert [r.reason.value for r in out.rejections] == ["unknown_device"]
    out = send(pipeline, clock, "position", {"lon": 25.39}, device="tracker-1")
    assert [r.reason.value for r in out.rejections] == ["bad_shape"]
    out = send(pipeline, clock, "sos", {"lat": 91, "lon": 0})
    assert [r.reason.value for r in out.rejections] == ["out_of_range"]
    with db.connect() as conn:
        q = select(t.dead_letters.c.reason_code).order_by(t.dead_letters.c.id)
        codes = list(conn.execute(q).scalars())
    assert codes == ["unknown_device", "bad_shape", "out_of_range"]
    assert incidents(db) == []


def test_tracks_are_kept_only_positions_hours_after_receipt(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    hours = pipeline.runtimes[MUNI].config.persons.positions_hours
    assert hours == 48  # the test town's persons: block
    send(pipeline, clock, "position", at(INSIDE, clock))
    clock.advance(hours=hours - 1)
    send(pipeline, clock, "position", at(INSIDE, clock))
    clock.advance(hours=1, seconds=1)  # the first is now older than the limit, the second not
    assert prune_tracks(db, pipeline.runtimes, clock.now) == 1
    with db.connect() as conn:
        left = list(conn.execute(select(person_positions.c.received_at)).scalars())
    assert left == [clock.now - timedelta(hours=1, seconds=1)]
    pipeline.tick()  # the ingest thread's tick prunes too, once a minute
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person_positions)).scalar() == 1
    clock.advance(hours=hours)
    pipeline._next_prune = 0.0  # a minute later
    pipeline.tick()
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person_positions)).scalar() == 0


def test_an_sos_raises_a_moderate_episode_to_severe(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    with db.begin() as conn:
        grown = replace(child("tracker-9", "Stoyan K."), kind=PersonKind.OTHER)
        persons.register(conn, pipeline.runtimes[MUNI], grown, actor="test", now=clock.now)
    send(pipeline, clock, "position", at(OUTSIDE, clock), device="tracker-9")
    [incident] = incidents(db)
    assert (incident["type"], incident["severity"]) == ("person_left_area", "moderate")
    clock.advance(seconds=30)
    send(pipeline, clock, "sos", at(OUTSIDE, clock), device="tracker-9")
    [incident] = incidents(db)
    assert incident["severity"] == "severe"
    assert "SOS pressed" in timeline(db, incident["id"])[-1]


def test_a_redelivered_message_is_stored_and_told_once(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    doc = at(OUTSIDE, clock)
    for _ in range(3):  # QoS 1 redelivery of the same message
        assert send(pipeline, clock, "position", doc).accepted == 1
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(person_positions)).scalar() == 1
    assert len([m for m in seen if m.kind is LiveKind.PERSON]) == 1
    [incident] = incidents(db)
    assert len(timeline(db, incident["id"])) == 1


def test_a_device_alternating_sos_and_positions_adds_one_entry(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    for _ in range(12):  # two minutes: SOS, position, SOS, position ...
        send(pipeline, clock, "sos", at(INSIDE, clock))
        clock.advance(seconds=5)
        send(pipeline, clock, "position", at(INSIDE, clock))
        clock.advance(seconds=5)
    [incident] = incidents(db)
    assert len(timeline(db, incident["id"])) == 1


def test_a_position_jumping_across_the_edge_does_not_flood_the_timeline(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, maria: Person
) -> None:
    for i in range(20):  # GPS jitter at the edge: out, in, out, in ... every 10 s
        send(pipeline, clock, "position", at(OUTSIDE if i % 2 == 0 else INSIDE, clock))
        clock.advance(seconds=10)
    [incident] = incidents(db)
    entries = timeline(db, incident["id"])  # left, back inside, then quiet
    assert len(entries) == 2, entries
    assert "back inside" in entries[-1]
    clock.advance(minutes=6)
    send(pipeline, clock, "position", at(OUTSIDE, clock))  # a while later: left, noted
    entries = timeline(db, incident["id"])
    assert len(entries) == 3
    assert "left the safe area" in entries[-1]
