"""The share service on SQLite and PostgreSQL: a share holds the cameras that see its place,
lives until its expiry, is extended within the policy's maximum and revoked at once; each change
is in the incident's timeline and the audit; an incident of a configured type shares itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from cityops.domain.entities import LonLat, Sector, Severity
from cityops.domain.incident import TimelineKind
from cityops.domain.rules import RuleOutcome, Trigger, TriggerKind
from cityops.domain.shares import AutoShare, NewShare, ShareError, ShareOrigin, token_digest
from cityops.services import shares
from cityops.services.incidents import apply_trigger
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import incidents_repo
from cityops.store.tables_audit import audit_log
from cityops.store.tables_shares import shares as shares_table
from tests.town import MUNI, T0, town_config, town_db

CROSSING = LonLat(25.3925, 42.6194)
"""cam-a and cam-b look at it; cam-school does not."""
URL = "https://cityops.example"


def runtime(*auto: AutoShare) -> MunicipalityRuntime:
    config = town_config()
    return MunicipalityRuntime.build(replace(config, sharing=replace(config.sharing, auto=auto)))


def accident(rt: MunicipalityRuntime, incident_type: str = "traffic_accident") -> Trigger:
    return Trigger(
        rule_id="accident",
        municipality=rt.id,
        kind=TriggerKind.RAISED,
        at=T0,
        dedup_key=f"accident|{incident_type}",
        subject="cam-a",
        outcome=RuleOutcome(incident_type, Sector.TRANSPORT, Severity.SEVERE, "Crash"),
        text="three events at the crossing",
        location=CROSSING,
    )


def police_share(
    conn: Connection,
    rt: MunicipalityRuntime,
    minutes: float,
    *,
    actor: str = "x",
    public_url: str = URL,
    **where: Any,
) -> NewShare:
    """A share made at T0 with the police for a robbery (the test town's policy allows both),
    of an incident (``incident_id=``) or a point (``place=``)."""
    return shares.create(
        conn,
        rt,
        agency="police",
        purpose="robbery",
        minutes=minutes,
        actor=actor,
        now=T0,
        public_url=public_url,
        **where,
    )


def audit_rows(db: Engine, prefix: str = "share.") -> list[tuple[str, str, dict[str, object]]]:
    with db.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.actor, audit_log.c.detail)
            .where(audit_log.c.action.like(f"{prefix}%"))
            .order_by(audit_log.c.seq)
        )
        return [(r.action, r.actor, dict(r.detail)) for r in rows]


def share_entries(db: Engine, incident_id: int) -> list[dict[str, str]]:
    with db.connect() as conn:
        record = incidents_repo.get_incident(conn, MUNI, incident_id)
    assert record is not None
    return [dict(e.data) for e in record.incident.timeline if e.kind is TimelineKind.SHARE]


def test_a_share_lives_until_expiry_and_its_changes_are_recorded(db_url: str) -> None:
    db, rt = town_db(db_url), runtime()
    with db.begin() as conn:
        incident_id = apply_trigger(conn, rt, accident(rt), T0)
        assert incident_id is not None
        made = police_share(
            conn, rt, 30, actor="ivanova", public_url=URL + "/", incident_id=incident_id.incident_id
        )
    share, iid = made.share, incident_id.incident_id
    assert made.url == f"{URL}/share.html#{made.token}"
    assert sorted(share.cameras) == ["cam-a", "cam-b"]
    assert (share.place, share.radius_m, share.origin) == (CROSSING, 200.0, ShareOrigin.OPERATOR)
    assert share.expires_at == T0 + timedelta(minutes=30)
    with db.connect() as conn:  # only the digest is stored
        stored = conn.execute(select(shares_table.c.token_hash)).scalar_one()
        assert stored == token_digest(made.token) != made.token
        assert shares.by_token(conn, made.token, T0 + timedelta(minutes=29)) == share
        assert shares.by_token(conn, made.token, T0 + timedelta(minutes=30)) is None  # expired
        other = made.token[:-1] + ("A" if made.token[-1] != "A" else "B")  # one character off
        assert shares.by_token(conn, other, T0) is None
        assert shares.by_token(conn, "", T0) is None
    with db.begin() as conn:
        longer = shares.extend(
            conn, MUNI, share.id, minutes=60, actor="petrov", now=T0 + timedelta(minutes=20)
        )
        assert longer.expires_at == T0 + timedelta(minutes=80)
        assert shares.by_token(conn, made.token, T0 + timedelta(minutes=79)) == longer
    with db.begin() as conn:
        gone = shares.revoke(
            conn, MUNI, share.id, actor="petrov", now=T0 + timedelta(minutes=40), reason=" done "
        )
        assert gone.status(T0 + timedelta(minutes=41)) == "revoked"
        assert gone.revoke_reason == "done"
        assert shares.by_token(conn, made.token, T0 + timedelta(minutes=41)) is None
        again = shares.revoke(
            conn, MUNI, share.id, actor="x", now=T0 + timedelta(hours=1), reason=None
        )
        assert again.revoked_at == gone.revoked_at  # once
        with pytest.raises(ShareError, match="revoked"):
            shares.extend(conn, MUNI, share.id, minutes=5, actor="x", now=T0 + timedelta(hours=1))
    assert [e["op"] for e in share_entries(db, iid)] == ["created", "extended", "revoked"]
    assert [(a, who, d.get("op")) for a, who, d in audit_rows(db)] == [
        ("share.created", "ivanova", None),
        ("share.changed", "petrov", "extend"),
        ("share.changed", "petrov", "revoke"),
    ]
    with db.connect() as conn:
        assert shares.for_incident(conn, MUNI, iid) == [gone]
        assert shares.for_incident(conn, "nexttown", iid) == []


def test_refusals_name_the_reason(db_url: str) -> None:
    db, rt = town_db(db_url), runtime()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"agency": "fire-brigade"}, "unknown agency 'fire-brigade'"),
        ({"purpose": "gossip"}, "unknown purpose 'gossip'"),
        ({"minutes": 361}, "at most 360 minutes"),  # the test town's max_duration: 6h
        ({"minutes": 0}, "more than 0"),
        ({"radius_m": 5000}, "radius"),
        ({"place": None}, "needs a place"),
        ({"place": None, "incident_id": 999}, "incident 999 not found"),
    ]
    for change, reason in cases:
        args: dict[str, Any] = {
            "agency": "police",
            "purpose": "robbery",
            "minutes": 10,
            "place": CROSSING,
        } | change
        with db.begin() as conn, pytest.raises(ShareError) as err:
            shares.create(conn, rt, actor="x", now=T0, public_url=URL, **args)
        assert reason in err.value.reason, change
    with db.connect() as conn:
        assert shares.listing(conn, MUNI) == []
        assert audit_rows(db) == []


def test_an_extension_stays_within_the_maximum_and_unknown_shares_are_not_found(
    db_url: str,
) -> None:
    db, rt = town_db(db_url), runtime()
    policy = rt.config.sharing
    with db.begin() as conn:
        share = police_share(conn, rt, 300, place=CROSSING).share
    with db.begin() as conn, pytest.raises(ShareError, match="at most 360 minutes in all"):
        shares.extend(
            conn,
            MUNI,
            share.id,
            minutes=120,
            actor="x",
            now=T0 + timedelta(minutes=250),
            policy=policy,
        )
    with db.begin() as conn:  # to the maximum exactly is fine
        done = shares.extend(
            conn,
            MUNI,
            share.id,
            minutes=110,
            actor="x",
            now=T0 + timedelta(minutes=250),
            policy=policy,
        )
        assert done.expires_at == T0 + timedelta(minutes=360)
    with db.begin() as conn, pytest.raises(ShareError, match="expired"):
        shares.extend(conn, MUNI, share.id, minutes=1, actor="x", now=T0 + timedelta(hours=7))
    for mid, sid in (("nexttown", share.id), (MUNI, share.id + 1)):
        with db.begin() as conn, pytest.raises(LookupError):
            shares.revoke(conn, mid, sid, actor="x", now=T0, reason=None)


def test_an_incident_of_a_configured_type_is_shared_when_it_opens(db_url: str) -> None:
    db = town_db(db_url)
    rt = runtime(
        AutoShare("traffic_accident", "traffic-police", "traffic-accident", 120),
        AutoShare("traffic_accident", "no-longer-there", "traffic-accident", 60),  # skipped
    )
    with db.begin() as conn:
        change = apply_trigger(conn, rt, accident(rt), T0)
        assert change is not None
        assert change.created
        joined = apply_trigger(conn, rt, replace(accident(rt), at=T0 + timedelta(minutes=1)), T0)
        assert joined is not None
        assert not joined.created
        other = apply_trigger(conn, rt, accident(rt, "fire"), T0)  # no rule for fires
        assert other is not None
        assert other.created
    with db.connect() as conn:
        made = shares.for_incident(conn, MUNI, change.incident_id)
        assert shares.for_incident(conn, MUNI, other.incident_id) == []
        assert shares.active(conn, MUNI, T0 + timedelta(minutes=119)) == made
        assert shares.active(conn, MUNI, T0 + timedelta(minutes=120)) == []
    assert [(s.agency, s.purpose, s.origin, s.created_by) for s in made] == [
        ("traffic-police", "traffic-accident", ShareOrigin.AUTO, "sharing:auto")
    ]  # one share: a trigger joining the open incident does not share again
    assert sorted(made[0].cameras) == ["cam-a", "cam-b"]
    assert made[0].expires_at == T0 + timedelta(hours=2)
    assert [e["op"] for e in share_entries(db, change.incident_id)] == ["created"]
    with db.begin() as conn:  # an operator gives the agency a link to it; a second one replaces it
        first = shares.reissue_link(conn, MUNI, made[0].id, actor="x", now=T0, public_url=URL)
        second = shares.reissue_link(conn, MUNI, made[0].id, actor="x", now=T0, public_url=URL)
        assert shares.by_token(conn, first.token, T0) is None
        assert shares.by_token(conn, second.token, T0) == made[0]


def test_the_first_open_is_in_the_timeline_every_open_in_the_audit(db_url: str) -> None:
    db, rt = town_db(db_url), runtime()
    with db.begin() as conn:
        change = apply_trigger(conn, rt, accident(rt), T0)
        assert change is not None
        share = police_share(conn, rt, 10, incident_id=change.incident_id).share
    for minute in (1, 2, 3):
        with db.begin() as conn:
            first = shares.opened(conn, share, T0 + timedelta(minutes=minute))
            assert first is (minute == 1)
    assert [e["op"] for e in share_entries(db, change.incident_id)] == ["created", "opened"]
    opens = [(who, d["first"]) for a, who, d in audit_rows(db) if a == "share.opened"]
    assert opens == [(f"share:{share.id}:police", True)] + [(f"share:{share.id}:police", False)] * 2
