"""Claims from an identity provider are outside input: any JSON object gives an identity or a
ClaimError, never another exception, and never a role no rule grants for the groups it carries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.domain.access import Role
from cityops.domain.sso import ClaimError, ClaimMapping, GroupRule, map_claims

RULES = (
    GroupRule("supervisors", "kazanlak", Role.SUPERVISOR),
    GroupRule("operators", "kazanlak", Role.OPERATOR),
    GroupRule("police", "kazanlak", Role.LIAISON, agency="police"),
    GroupRule("operators", "shipka", Role.ANALYST),
)
MAPPING = ClaimMapping(username_prefix="kz.", rules=RULES)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
group_names = st.sampled_from(["supervisors", "operators", "police", "canteen", "OPERATORS", ""])
claims_strategy = st.fixed_dictionaries(
    {},
    optional={
        "sub": st.text(max_size=40) | json_values,
        "preferred_username": st.from_regex(r"[A-Za-z0-9._@-]{1,20}", fullmatch=True) | json_values,
        "name": st.text(max_size=60) | json_values,
        "groups": st.lists(group_names | json_values, max_size=5) | group_names | json_values,
    },
).flatmap(
    lambda base: st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(
        lambda extra: {**extra, **base}
    )
)


@given(claims_strategy)
def test_any_claims_give_an_identity_or_a_claim_error(claims: dict[str, object]) -> None:
    reasons: list[str] = []
    try:
        identity = map_claims(claims, MAPPING)
    except ClaimError as exc:
        reasons.append(exc.reason)
    if reasons:
        assert reasons[0] in {"subject", "username", "no_role"}
        return
    groups = claims.get("groups")
    carried: set[object] = set()
    if isinstance(groups, str):
        carried = {groups}
    elif isinstance(groups, list):
        carried = {g for g in groups if isinstance(g, str)}
    assert identity.username.startswith("kz.")
    assert identity.username == identity.username.lower()
    assert 0 < len(identity.display_name) <= 200
    assert identity.memberships
    for municipality, rule in identity.memberships.items():
        assert rule.municipality == municipality
        assert rule.group in carried
        # the first matching rule wins: no earlier rule for the municipality matched
        earlier = RULES[: RULES.index(rule)]
        assert not any(r.municipality == municipality and r.group in carried for r in earlier)


def test_strongest_rule_first_wins_and_unknown_groups_give_nothing() -> None:
    identity = map_claims(
        {
            "sub": "s-1",
            "preferred_username": "Ivanova",
            "name": "Мария",
            "groups": ["canteen", "operators", "supervisors"],
        },
        MAPPING,
    )
    assert identity.username == "kz.ivanova"
    assert identity.display_name == "Мария"
    assert {m: r.role for m, r in identity.memberships.items()} == {
        "kazanlak": Role.SUPERVISOR,
        "shipka": Role.ANALYST,
    }
    with pytest.raises(ClaimError) as refused:
        map_claims({"sub": "s-2", "preferred_username": "x", "groups": ["canteen"]}, MAPPING)
    assert refused.value.reason == "no_role"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"preferred_username": "a", "groups": ["operators"]}, "subject"),
        ({"sub": "  ", "preferred_username": "a", "groups": ["operators"]}, "subject"),
        ({"sub": "s", "groups": ["operators"]}, "username"),
        ({"sub": "s", "preferred_username": "иванова", "groups": ["operators"]}, "username"),
        ({"sub": "s", "preferred_username": "a" * 62, "groups": ["operators"]}, "username"),
        ({"sub": "s", "preferred_username": "a b", "groups": ["operators"]}, "username"),
        ({"sub": "s", "preferred_username": "a", "groups": {"operators": True}}, "no_role"),
    ],
)
def test_unusable_claims_are_refused_with_their_reason(
    claims: dict[str, object], reason: str
) -> None:
    with pytest.raises(ClaimError) as refused:
        map_claims(claims, MAPPING)
    assert refused.value.reason == reason
