"""The incident lifecycle: every pair of statuses, allowed or refused, and what a move records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cityops.domain.entities import Sector, Severity
from cityops.domain.incident import (
    MOVES,
    TRANSITIONS,
    Incident,
    IncidentAction,
    IncidentError,
    InvalidTransitionError,
    Status,
    TimelineKind,
    allowed_actions,
    refusal,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ALLOWED = {
    (Status.NEW, Status.ACKNOWLEDGED),
    (Status.NEW, Status.CANCELLED),
    (Status.ACKNOWLEDGED, Status.DISPATCHED),
    (Status.ACKNOWLEDGED, Status.RESOLVED),
    (Status.ACKNOWLEDGED, Status.CANCELLED),
    (Status.DISPATCHED, Status.ON_SCENE),
    (Status.DISPATCHED, Status.RESOLVED),
    (Status.DISPATCHED, Status.CANCELLED),
    (Status.ON_SCENE, Status.RESOLVED),
    (Status.RESOLVED, Status.CLOSED),
    (Status.RESOLVED, Status.ACKNOWLEDGED),
}


def incident(status: Status, agency: str | None = "police") -> Incident:
    return Incident(
        municipality="m",
        type="intrusion",
        sector=Sector.SAFETY,
        severity=Severity.SEVERE,
        title="Person in the school yard",
        created_at=T0,
        status=status,
        assigned_agency=agency,
    )


def test_the_table_is_the_documented_lifecycle() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_pair_of_statuses(current: Status, target: Status) -> None:
    inc = incident(current)
    at = T0 + timedelta(minutes=3)
    if (current, target) in ALLOWED:
        entry = inc.transition(target, actor="operator-7", at=at, reason="checked on camera")
        assert inc.status is target
        assert inc.updated_at == at
        assert inc.timeline == [entry]
        assert (entry.kind, entry.actor, entry.at, entry.text) == (
            TimelineKind.STATUS,
            "operator-7",
            at,
            "checked on camera",
        )
        assert (entry.from_status, entry.to_status) == (current, target)
    else:
        with pytest.raises(InvalidTransitionError) as err:
            inc.transition(target, actor="operator-7", at=at, reason="x")
        assert f"cannot move from {current} to {target}" in str(err.value)
        assert inc.status is current
        assert inc.timeline == []


def test_cancel_needs_a_reason() -> None:
    inc = incident(Status.NEW)
    for reason in (None, "", "   "):
        with pytest.raises(IncidentError, match="requires a reason"):
            inc.transition(Status.CANCELLED, actor="op", at=T0, reason=reason)
    assert inc.status is Status.NEW


def test_dispatch_needs_an_assigned_agency() -> None:
    inc = incident(Status.ACKNOWLEDGED, agency=None)
    with pytest.raises(IncidentError, match="assign an agency"):
        inc.transition(Status.DISPATCHED, actor="op", at=T0)
    entry = inc.assign("police", actor="op", at=T0)
    assert entry.data == {"agency": "police", "previous": ""}
    inc.transition(Status.DISPATCHED, actor="op", at=T0)
    assert inc.status is Status.DISPATCHED


def test_closed_incidents_take_no_assignment_and_open_ones_report_open() -> None:
    assert [s for s in Status if s.is_open] == [
        Status.NEW,
        Status.ACKNOWLEDGED,
        Status.DISPATCHED,
        Status.ON_SCENE,
    ]
    with pytest.raises(IncidentError):
        incident(Status.CLOSED).assign("fire", actor="op", at=T0)


def test_a_whole_life_is_recorded_in_order() -> None:
    inc = incident(Status.NEW, agency=None)
    steps = [
        (Status.ACKNOWLEDGED, "seen"),
        (Status.DISPATCHED, None),
        (Status.ON_SCENE, None),
        (Status.RESOLVED, "intruder gone"),
        (Status.CLOSED, None),
    ]
    for i, (target, reason) in enumerate(steps):
        if target is Status.DISPATCHED:
            inc.assign("police", actor="op", at=T0 + timedelta(minutes=i))
        inc.transition(target, actor="op", at=T0 + timedelta(minutes=i), reason=reason)
    assert [e.to_status for e in inc.timeline if e.kind is TimelineKind.STATUS] == [
        s for s, _ in steps
    ]
    assert inc.timeline[0].text == "seen"
    assert inc.timeline[2].text == "acknowledged -> dispatched"


A = IncidentAction
EXPECTED_ACTIONS = {
    Status.NEW: [A.ACKNOWLEDGE, A.ASSIGN, A.CANCEL, A.NOTE, A.SOP],
    Status.ACKNOWLEDGED: [A.ASSIGN, A.DISPATCH, A.RESOLVE, A.CANCEL, A.NOTE, A.SOP],
    Status.DISPATCHED: [A.ASSIGN, A.ON_SCENE, A.RESOLVE, A.CANCEL, A.NOTE, A.SOP],
    Status.ON_SCENE: [A.ASSIGN, A.RESOLVE, A.NOTE, A.SOP],
    Status.RESOLVED: [A.CLOSE, A.REOPEN, A.NOTE],
    Status.CLOSED: [A.NOTE],
    Status.CANCELLED: [A.NOTE],
}
"""The contract (notes/CONTRACT.md): what a console may offer, with an agency assigned."""


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_follow_the_lifecycle(status: Status) -> None:
    assert allowed_actions(incident(status)) == EXPECTED_ACTIONS[status]
    without_agency = [a for a in EXPECTED_ACTIONS[status] if a is not A.DISPATCH]
    assert allowed_actions(incident(status, agency=None)) == without_agency


@pytest.mark.parametrize("agency", ["police", None])
@pytest.mark.parametrize("status", list(Status))
def test_every_move_the_list_offers_works_and_every_other_is_refused(
    status: Status, agency: str | None
) -> None:
    offered = allowed_actions(incident(status, agency))
    for action in MOVES:
        inc = incident(status, agency)
        if action in offered:
            entry = inc.move(action, actor="op", at=T0, note="why")
            assert (entry.from_status, inc.status) == (status, MOVES[action])
        else:
            with pytest.raises(IncidentError) as err:
                inc.move(action, actor="op", at=T0, note="why")
            assert str(err.value) == refusal(inc, action)
            assert (inc.status, inc.timeline) == (status, [])


def test_refusals_say_why() -> None:
    assert refusal(incident(Status.RESOLVED), A.ACKNOWLEDGE) == (
        "acknowledge is only for a new incident (it is resolved)"
    )
    assert refusal(incident(Status.ACKNOWLEDGED), A.REOPEN) == (
        "reopen is only for a resolved incident (it is acknowledged)"
    )
    assert refusal(incident(Status.ACKNOWLEDGED, None), A.DISPATCH) == (
        "assign an agency before dispatching"
    )
    assert refusal(incident(Status.CLOSED), A.SOP) == (
        "cannot tick a procedure step of a closed incident"
    )
    with pytest.raises(IncidentError, match="does not move"):
        incident(Status.NEW).move(A.NOTE, actor="op", at=T0)
