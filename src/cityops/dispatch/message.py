"""What an agency receives: the webhook's JSON body and the bilingual (Bulgarian, English)
e-mail, both from the snapshot stored with the delivery (docs/DISPATCH.md "Payload")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import quote

from cityops.store.dispatch_repo import Delivery

SCHEMA = "cityops.dispatch/1"


@dataclass(frozen=True, slots=True)
class Links:
    """The public base URL of this CityOps (``CITYOPS_PUBLIC_URL``) and what hangs off it."""

    base: str

    def incident(self, municipality: str, incident_id: int) -> str:
        """The incident in the API (for programs: a webhook's receiver)."""
        return f"{self.base}/api/v1/m/{municipality}/incidents/{incident_id}"

    def console(self, municipality: str, incident_id: int) -> str:
        """The incident opened in the console (for people: the e-mail's link; the console asks
        for a login first when there is no session, then opens it)."""
        return f"{self.base}/#/m/{quote(municipality, safe='')}/incidents/{incident_id}"

    def ack(self, municipality: str, delivery_id: int) -> str:
        return f"{self.base}/api/v1/m/{municipality}/dispatch/{delivery_id}/ack"

    def reply(self, municipality: str, delivery_id: int, token: str) -> str:
        return f"{self.base}/api/v1/m/{municipality}/dispatch/{delivery_id}/reply?token={token}"


def document(delivery: Delivery, links: Links, sent_at: datetime) -> dict[str, Any]:
    incident = dict(delivery.payload["incident"])
    return {
        "schema": SCHEMA,
        "delivery": delivery.id,
        "attempt": delivery.attempts + 1,
        "sent_at": sent_at.isoformat(),
        "agency": delivery.agency,
        "incident": incident,
        "links": {
            "incident": links.incident(delivery.municipality, delivery.incident_id),
            "console": links.console(delivery.municipality, delivery.incident_id),
            "ack": links.ack(delivery.municipality, delivery.id),
        },
    }


def webhook_body(delivery: Delivery, links: Links, sent_at: datetime) -> bytes:
    doc = document(delivery, links, sent_at)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _line(text: str) -> str:
    """One header line: no line breaks or other control characters (header injection)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:200]


def _where(incident: Mapping[str, Any]) -> tuple[str, str]:
    loc = incident.get("location")
    if not loc:
        return "няма", "none"
    coords = f"{loc['lat']:.6f}, {loc['lon']:.6f}"
    osm = f"https://www.openstreetmap.org/?mlat={loc['lat']:.6f}&mlon={loc['lon']:.6f}#map=18/"
    osm += f"{loc['lat']:.6f}/{loc['lon']:.6f}"
    text = f"{coords} ({loc['geo']})\n  {osm}"
    return text, text


def email(
    delivery: Delivery, links: Links, *, sender: str, sent_at: datetime, reply_token: str
) -> EmailMessage:
    """Bulgarian first, then English; plain text, UTF-8."""
    inc = delivery.payload["incident"]
    title_bg = inc.get("title_local") or inc["title"]
    where_bg, where_en = _where(inc)
    link = links.console(delivery.municipality, delivery.incident_id)
    reply = links.reply(delivery.municipality, delivery.id, reply_token)
    msg = EmailMessage()
    msg["Subject"] = f"[CityOps] Инцидент / Incident #{inc['id']}: {_line(title_bg)}"
    msg["From"] = sender
    msg["To"] = _line(delivery.target)
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = make_msgid(domain="cityops.invalid")
    msg["X-CityOps-Delivery"] = str(delivery.id)
    msg.set_content(
        "\n".join(
            [
                f"Инцидент №{inc['id']} ({inc['municipality']}) е възложен на {delivery.agency}.",
                f"Заглавие: {title_bg}",
                f"Вид: {inc['type']}; сериозност: {inc['severity']}; състояние: {inc['status']}",
                f"Място: {where_bg}",
                f"Инцидентът: {link}",
                f"Потвърдете получаването: {reply}",
                "",
                "-- English --",
                f"Incident #{inc['id']} ({inc['municipality']}) is dispatched to "
                f"{delivery.agency}.",
                f"Title: {inc['title']}",
                f"Type: {inc['type']}; severity: {inc['severity']}; status: {inc['status']}",
                f"Position: {where_en}",
                f"The incident: {link}",
                f"Acknowledge receipt: {reply}",
                "",
                f"Delivery {delivery.id}, sent {sent_at.isoformat()}.",
            ]
        ),
        charset="utf-8",
    )
    return msg
