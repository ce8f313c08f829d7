"""Single sign-on: how a verified ID token's claims become a CityOps identity.

Pure logic, no HTTP: ``services/oidc.py`` verifies the token (signature, issuer, audience,
expiry, nonce) and hands the claims here. The claims are outside input — an identity provider
may send anything — so every claim is checked for type and shape, and anything that does not
fit is a :class:`ClaimError` with a short reason code, never another exception. Every refusal of
a single sign-on, of the claims here or of the protocol in ``services/oidc.py`` (``OidcError``),
is an :class:`SsoError`: one ``except`` and one ``reason`` for the console and the audit.

The mapping (docs/SECURITY.md "Console and single sign-on"): one claim gives the username
(``preferred_username`` by default), one the display name, one the groups; each group rule gives
a role in one municipality. The first rule that matches wins per municipality (list the strongest
first); a group no rule names gives nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cityops.domain.access import Role

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 200
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]*$")
"""What an account's username may be (services/accounts.py's rule); claims are lower-cased."""
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]+$")


class SsoError(Exception):
    """A single sign-on refused; ``reason`` is a short code the console shows a message for
    (docs/SECURITY.md "Console and single sign-on")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ClaimError(SsoError):
    """The verified claims cannot give an identity (the provider's data, not the protocol)."""


@dataclass(frozen=True)
class GroupRule:
    """Members of ``group`` get ``role`` in ``municipality`` (a liaison: of ``agency``)."""

    group: str
    municipality: str
    role: Role
    agency: str | None = None
    unmasked_video: bool = False


@dataclass(frozen=True)
class ClaimMapping:
    username_claim: str = "preferred_username"
    display_name_claim: str = "name"
    groups_claim: str = "groups"
    username_prefix: str = ""
    """Put before every username from this provider (``kazanlak.``): usernames of different
    providers, and local ones, cannot collide."""
    rules: tuple[GroupRule, ...] = ()

    @property
    def municipalities(self) -> frozenset[str]:
        """The municipalities whose memberships this provider decides (and only these)."""
        return frozenset(r.municipality for r in self.rules)


@dataclass(frozen=True)
class SsoIdentity:
    subject: str
    username: str
    display_name: str
    memberships: Mapping[str, GroupRule] = field(default_factory=dict)
    """Municipality -> the rule that grants the role there."""


def _text(claims: Mapping[str, object], name: str) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def groups_of(claims: Mapping[str, object], claim: str) -> frozenset[str]:
    """The groups claim as a set of strings: a list (non-strings dropped), or one string."""
    value = claims.get(claim)
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, Sequence):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def map_claims(claims: Mapping[str, object], mapping: ClaimMapping) -> SsoIdentity:
    """The identity the claims give, or :class:`ClaimError` (reasons: ``subject``,
    ``username``, ``no_role``)."""
    subject = _text(claims, "sub")
    if subject is None or len(subject) > 255 or not _PRINTABLE.match(subject):
        raise ClaimError("subject", "the ID token has no usable 'sub' claim")
    name = _text(claims, mapping.username_claim)
    username = (mapping.username_prefix + (name or "")).lower()
    if name is None or len(username) > USERNAME_MAX or not _USERNAME.match(username):
        raise ClaimError(
            "username",
            f"claim {mapping.username_claim!r} must give 1-{USERNAME_MAX} characters of"
            " a-z 0-9 . _ @ - with the prefix",
        )
    display = _text(claims, mapping.display_name_claim)
    if display is None or len(display) > DISPLAY_NAME_MAX or not _PRINTABLE.match(display):
        display = username
    groups = groups_of(claims, mapping.groups_claim)
    memberships: dict[str, GroupRule] = {}
    for rule in mapping.rules:
        if rule.group in groups and rule.municipality not in memberships:
            memberships[rule.municipality] = rule
    if not memberships:
        raise ClaimError("no_role", "none of the account's groups gives a role in CityOps")
    return SsoIdentity(subject, username, display, memberships)
