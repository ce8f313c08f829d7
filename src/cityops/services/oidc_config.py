"""The single sign-on configuration: the file named by ``CITYOPS_OIDC_CONFIG``.

::

    providers:
      - id: kazanlak                     # in URLs: /api/v1/auth/oidc/kazanlak/login
        title: {bg: Община Казанлък, en: Kazanlak municipality}
        issuer: https://idp.kazanlak.bg/realms/staff   # discovery at <issuer>/.well-known/...
        client_id: cityops
        client_secret_env: CITYOPS_OIDC_KAZANLAK_SECRET # or client_secret: (not in git!)
        scopes: [openid, profile, email, groups]
        username_claim: preferred_username
        display_name_claim: name
        groups_claim: groups
        username_prefix: "kazanlak."
        roles:                           # first match per municipality wins: strongest first
          - {group: cityops-supervisors, municipality: kazanlak, role: supervisor}
          - {group: cityops-operators, municipality: kazanlak, role: operator}
          - {group: police, municipality: kazanlak, role: liaison, agency: police}

Described in docs/SECURITY.md, "Console and single sign-on"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from cityops.domain.access import Role
from cityops.domain.sso import ClaimMapping, GroupRule

_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_CLAIM = Annotated[str, Field(min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupRoleConfig(_Strict):
    group: Annotated[str, Field(min_length=1, max_length=300)]
    municipality: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    role: Role
    agency: str | None = None
    unmasked_video: bool = False

    @model_validator(mode="after")
    def _liaison_agency(self) -> GroupRoleConfig:
        if self.role is Role.LIAISON and not self.agency:
            raise ValueError("a liaison rule names its agency")
        return self


class ProviderConfig(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    title: dict[str, str] | str
    issuer: Annotated[str, Field(pattern=r"^https?://[^\s?#]+$")]
    client_id: Annotated[str, Field(min_length=1)]
    client_secret: SecretStr | None = None
    client_secret_env: str | None = None
    scopes: list[str] = ["openid", "profile", "email", "groups"]
    username_claim: _CLAIM = "preferred_username"
    display_name_claim: _CLAIM = "name"
    groups_claim: _CLAIM = "groups"
    username_prefix: Annotated[str, Field(pattern=r"^[a-z0-9._@-]{0,20}$")] = ""
    redirect_uri: str | None = None
    """The callback URL registered at the provider; default: this server's
    ``/api/v1/auth/oidc/<id>/callback`` as the browser reached it."""
    membership_days: Annotated[int, Field(ge=1, le=366)] = 30
    """Memberships from a login last this long (renewed at every login), so one whose group
    was taken away at the provider ends even if the person never logs in again."""
    roles: list[GroupRoleConfig] = []

    @model_validator(mode="after")
    def _checks(self) -> ProviderConfig:
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        if (self.client_secret is None) == (self.client_secret_env is None):
            raise ValueError("give exactly one of client_secret and client_secret_env")
        if not self.roles:
            raise ValueError("roles: at least one group rule")
        return self

    def secret(self) -> str:
        """The client secret (from the environment variable when so configured)."""
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        value = os.environ.get(self.client_secret_env or "", "")
        if not value:
            raise ValueError(f"provider {self.id}: {self.client_secret_env} is not set")
        return value

    def label(self, language: str) -> str:
        if isinstance(self.title, str):
            return self.title
        return self.title.get(language) or next(iter(self.title.values()), self.id)

    def mapping(self) -> ClaimMapping:
        return ClaimMapping(
            username_claim=self.username_claim,
            display_name_claim=self.display_name_claim,
            groups_claim=self.groups_claim,
            username_prefix=self.username_prefix,
            rules=tuple(
                GroupRule(r.group, r.municipality, r.role, r.agency, r.unmasked_video)
                for r in self.roles
            ),
        )


class OidcConfig(_Strict):
    providers: list[ProviderConfig] = []

    @model_validator(mode="after")
    def _unique(self) -> OidcConfig:
        ids = [p.id for p in self.providers]
        if len(ids) != len(set(ids)):
            raise ValueError("provider ids must be unique")
        return self

    def provider(self, provider_id: str) -> ProviderConfig | None:
        return next((p for p in self.providers if p.id == provider_id), None)


def load_oidc_config(path: Path | None) -> OidcConfig:
    """The providers in ``path`` (None: no single sign-on). Errors name the file."""
    if path is None:
        return OidcConfig()
    try:
        raw = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
        config = OidcConfig.model_validate(raw)
        for p in config.providers:
            p.secret()  # a missing secret fails at start, not at the first login
    except (OSError, YAMLError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return config
