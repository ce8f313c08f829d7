"""The two ways out: an HTTP POST (httpx) and SMTP (smtplib, STARTTLS when configured). Each
returns None when the receiver took the message, else the reason it did not."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "cityops@localhost"
    cafile: Path | None = None
    """Extra CA bundle for the server's STARTTLS certificate (a private CA)."""
    timeout_s: float = 20.0


def post_webhook(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str]
) -> str | None:
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as err:
        return f"{type(err).__name__}: {err}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def send_email(config: SmtpConfig, message: EmailMessage) -> str | None:
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                context = ssl.create_default_context(
                    cafile=str(config.cafile) if config.cafile else None
                )
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        return f"{type(err).__name__}: {err}"[:500]
    return None
