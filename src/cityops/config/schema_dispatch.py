"""An agency's ``dispatch:`` block: where a dispatched incident goes (docs/CONFIG.md "Agency
channels", docs/DISPATCH.md). The webhook's secret is named, never written here."""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from cityops.config.base import Model
from cityops.config.fields import Email, WebhookUrl
from cityops.domain.dispatch import AgencyChannels

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("an environment variable name: A-Z, 0-9 and _, not starting with a digit")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
SecretPath = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class AgencyDispatchModel(Model):
    webhook_url: WebhookUrl | None = None
    secret_env: EnvName | None = Field(
        default=None, description="Environment variable holding the webhook's HMAC secret"
    )
    secret_file: SecretPath | None = Field(
        default=None, description="File holding the webhook's HMAC secret (e.g. /run/secrets/x)"
    )
    email_to: list[Email] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _secret_named_once(self) -> Self:
        named = (self.secret_env is not None) + (self.secret_file is not None)
        if self.webhook_url and named != 1:
            raise ValueError("a webhook needs exactly one of secret_env or secret_file")
        if not self.webhook_url and named:
            raise ValueError("secret_env/secret_file belong to a webhook_url")
        if not self.webhook_url and not self.email_to:
            raise ValueError("dispatch needs a webhook_url or email_to")
        return self

    def to_domain(self, agency: str) -> AgencyChannels:
        return AgencyChannels(
            agency=agency,
            webhook_url=self.webhook_url,
            secret_env=self.secret_env,
            secret_file=self.secret_file,
            email_to=tuple(self.email_to),
        )
