"""What each kind of device credential may do (domain/devices.py), and the topic-filter
coverage both brokers' rules rest on, checked against paho's own matcher with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from cityops.domain.devices import (
    Access,
    DeviceKind,
    DeviceScope,
    Grant,
    ScopeError,
    check_scope,
    filter_covers,
    grants,
    may_publish,
    may_receive,
    may_subscribe,
)

W, R = Access.WRITE, Access.READ
LEVEL = st.sampled_from(["a", "b", "cityops", "", "$SYS", "x y"])
TOPIC = st.lists(LEVEL, min_size=1, max_size=5).map("/".join)
PLAIN = LEVEL.filter(lambda x: not x.startswith("$"))
"""A level a wildcard stands for ($-topics are never matched by a leading wildcard)."""


@st.composite
def filters(draw: st.DrawFn) -> str:
    """Valid MQTT filters: levels, ``+`` anywhere, ``#`` only last."""
    levels = draw(st.lists(st.one_of(LEVEL, st.just("+")), min_size=1, max_size=5))
    if draw(st.booleans()):
        levels.append("#")
    return "/".join(levels)


@given(filters(), TOPIC)
def test_covering_a_topic_is_mqtt_matching(grant: str, topic: str) -> None:
    assert filter_covers(grant, topic) == topic_matches_sub(grant, topic)


@st.composite
def narrowed(draw: st.DrawFn, grant: str) -> str:
    """A filter inside ``grant``: some ``+`` made literal, ``#`` narrowed or extended."""
    out = []
    for level in grant.split("/"):
        if level == "+" and draw(st.booleans()):
            out.append(draw(PLAIN))
        elif level == "#":
            out.extend(draw(st.lists(st.one_of(PLAIN, st.just("+")), max_size=2)))
            if draw(st.booleans()):
                out.append("#")
            if not out:
                out.append(draw(PLAIN))
        else:
            out.append(level)
    return "/".join(out)


@st.composite
def nearby(draw: st.DrawFn, grant: str) -> str:
    """A filter near ``grant``, often wider than it: one level made ``+``, ``#`` or literal."""
    levels = grant.split("/")
    i = draw(st.integers(0, len(levels) - 1))
    new = draw(st.sampled_from(["+", "#", "a"]))
    levels = [*levels[:i], new] if new == "#" else [*levels[:i], new, *levels[i + 1 :]]
    if "#" in levels[:-1]:
        levels = levels[: levels.index("#") + 1]
    return "/".join(levels)


@st.composite
def topic_of(draw: st.DrawFn, sub: str) -> str:
    """A topic ``sub`` matches: its wildcards filled in."""
    out = []
    for level in sub.split("/"):
        if level == "+":
            out.append(draw(PLAIN))
        elif level == "#":
            out.extend(draw(st.lists(PLAIN, max_size=2)))
        else:
            out.append(level)
    return "/".join(out)


@settings(max_examples=500)
@given(st.data())
def test_a_covered_subscription_never_receives_beyond_the_grant(data: st.DataObject) -> None:
    grant = data.draw(filters())
    sub = data.draw(st.one_of(narrowed(grant), nearby(grant), filters()))
    topic = data.draw(topic_of(sub))
    if topic_matches_sub(sub, topic) and filter_covers(grant, sub):
        assert topic_matches_sub(grant, topic), (grant, sub, topic)


@given(st.data())
def test_a_narrowed_filter_is_covered(data: st.DataObject) -> None:
    grant = data.draw(filters())
    sub = data.draw(narrowed(grant))
    assert filter_covers(grant, sub), (grant, sub)


@given(filters())
def test_every_filter_covers_itself(f: str) -> None:
    assert filter_covers(f, f)


def test_wider_subscriptions_are_not_covered() -> None:
    assert not filter_covers("cityops/a/#", "#")
    assert not filter_covers("cityops/a/#", "cityops/+/x")
    assert not filter_covers("cityops/+/x", "cityops/#")
    assert not filter_covers("cityops/+", "cityops/#")
    assert filter_covers("cityops/+/x", "cityops/a/x")
    assert filter_covers("cityops/#", "cityops")  # '#' includes its parent level
    assert not filter_covers("+/x", "$SYS/x")


def gateway(*devices: str) -> DeviceScope:
    return DeviceScope("gw", DeviceKind.GATEWAY, "tt", devices)


def test_a_device_scoped_gateway_writes_its_sensors_only() -> None:
    assert grants(gateway("river-1")) == (Grant(W, "cityops/tt/sensors/river-1/readings"),)
    assert grants(gateway()) == (
        Grant(W, "cityops/tt/sensors/+/readings"),
        Grant(W, "cityops/tt/readings"),
    )


def test_a_worker_writes_its_cameras_counters_and_own_presence() -> None:
    scope = DeviceScope("w1", DeviceKind.WORKER, "tt", ("cam-a", "count-1"))
    got = grants(scope)
    assert may_publish(got, "cityops/tt/cameras/cam-a/events")
    assert may_publish(got, "cityops/tt/cameras/cam-a/detections")
    assert may_publish(got, "cityops/tt/sensors/count-1/readings")
    assert may_publish(got, "cityops/_workers/tt.w1")
    assert not may_publish(got, "cityops/_workers/tt.w2")  # another worker's presence
    assert may_subscribe(got, "cityops/_workers/+")
    assert not may_subscribe(got, "cityops/tt/#")
    assert not may_publish(got, "cityops/tt/cameras/cam-b/events")
    assert not may_publish(got, "cityops/tt/cameras/+/events")  # wildcards never publish


def test_an_ingest_reads_the_inbound_topics_and_writes_incidents() -> None:
    everyone = DeviceScope("ingest", DeviceKind.INGEST, None)
    got = grants(everyone, ["frigate", "frigate"])
    for sub in (
        "cityops/+/sensors/+/readings",
        "cityops/+/readings",
        "cityops/+/cameras/+/events",
        "cityops/+/cameras/+/detections",
        "cityops/+/events/+",
        "frigate/events",
    ):
        assert may_subscribe(got, sub), sub
    assert not may_subscribe(got, "#")
    assert may_publish(got, "cityops/tt/incidents/42")
    assert not may_publish(got, "cityops/tt/sensors/x/readings")
    one = grants(DeviceScope("ingest", DeviceKind.INGEST, "tt"))
    assert may_receive(one, "cityops/tt/readings")
    assert not may_receive(one, "cityops/other/readings")


PREFIX_LEVELS = st.sampled_from(["cityops", "Cityops", "frigate", "+", "#", "", "a.b", "x y"])


@given(st.one_of(st.text(max_size=80), st.lists(PREFIX_LEVELS, min_size=1).map("/".join)))
def test_an_accepted_frigate_prefix_stays_out_of_cityops(prefix: str) -> None:
    scope = DeviceScope("nvr", DeviceKind.FRIGATE, "tt", prefix=prefix)
    try:
        check_scope(scope)
    except ScopeError:
        return
    for grant in grants(scope):
        assert not filter_covers(grant.topic, "cityops/tt/readings")
        assert not filter_covers(grant.topic, "cityops/_workers/x")
        assert "\n" not in grant.topic
        assert "+" not in grant.topic


def test_a_frigate_owns_its_prefix_only() -> None:
    multi = grants(DeviceScope("nvr", DeviceKind.FRIGATE, "tt", prefix="site-a/frigate"))
    assert may_publish(multi, "site-a/frigate/events")
    got = grants(DeviceScope("nvr", DeviceKind.FRIGATE, "tt", prefix="frigate-tt"))
    assert may_publish(got, "frigate-tt/events")
    assert may_subscribe(got, "frigate-tt/+/set")
    assert not may_publish(got, "frigate/events")
    assert not may_publish(got, "cityops/tt/readings")


@pytest.mark.parametrize(
    ("scope", "why"),
    [
        (DeviceScope("gw", DeviceKind.GATEWAY, None), "one municipality"),
        (DeviceScope("GW", DeviceKind.GATEWAY, "tt"), "name"),
        (DeviceScope("gw", DeviceKind.GATEWAY, "tt", ("a/#",)), "device"),
        (DeviceScope("gw", DeviceKind.GATEWAY, "tt", ("+",)), "device"),
        (DeviceScope("i", DeviceKind.INGEST, "tt", ("s",)), "narrowed"),
        (DeviceScope("w", DeviceKind.WORKER, None, ("cam",)), "installation-wide"),
        (DeviceScope("f", DeviceKind.FRIGATE, "tt"), "prefix"),
        (DeviceScope("f", DeviceKind.FRIGATE, "tt", prefix="a/#"), "prefix"),
        (DeviceScope("f", DeviceKind.FRIGATE, "tt", prefix="cityops"), "under cityops"),
        (DeviceScope("f", DeviceKind.FRIGATE, "tt", prefix="cityops/tt"), "under cityops"),
        (DeviceScope("f", DeviceKind.FRIGATE, "tt", prefix="a//b"), "prefix"),
        (DeviceScope("f", DeviceKind.FRIGATE, "tt", prefix="+"), "prefix"),
        (DeviceScope("g", DeviceKind.GATEWAY, "tt", prefix="x"), "only a Frigate"),
        (DeviceScope("g", DeviceKind.GATEWAY, "a.b"), "not an id"),
    ],
)
def test_impossible_scopes_are_refused(scope: DeviceScope, why: str) -> None:
    with pytest.raises(ScopeError, match=why):
        check_scope(scope)


@given(st.text(max_size=70), st.sampled_from(list(DeviceKind)))
def test_any_name_is_refused_or_safe_in_a_topic_and_username(name: str, kind: DeviceKind) -> None:
    scope = DeviceScope(name, kind, "tt", prefix="p" if kind is DeviceKind.FRIGATE else None)
    try:
        check_scope(scope)
    except ScopeError:
        return
    assert not set(name) & set("/+#:. \n\t")
    assert scope.username == f"tt.{name}"
