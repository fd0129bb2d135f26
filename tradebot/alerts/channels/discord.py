"""Discord: an incoming-webhook POST with a short content line and one embed."""

from __future__ import annotations

from typing import Any

import requests

from tradebot.alerts.channels import SEVERITY_COLOR, DeliveryError
from tradebot.alerts.events import RenderedAlert


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def payload_for(alert: RenderedAlert, username: str | None = None) -> dict[str, Any]:
    """Return the webhook JSON: content plus an embed with title, description, color and fields."""
    embed = {
        "title": _clip(alert.headline, 256),
        "description": _clip(alert.text, 4096),
        "color": SEVERITY_COLOR[alert.severity],
        "fields": [{"name": _clip(n, 256), "value": _clip(v or "-", 1024), "inline": True}
                   for n, v in alert.fields[:25]],
        "footer": {"text": _clip(f"{alert.kind} · {alert.key}", 2048)},
    }
    body: dict[str, Any] = {"content": _clip(alert.headline, 2000), "embeds": [embed],
                            "allowed_mentions": {"parse": []}}
    if username:
        body["username"] = username
    return body


class DiscordChannel:
    """Posts to one Discord webhook URL."""

    name = "discord"

    def __init__(self, webhook_url: str, username: str | None = "tradebot", timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self._url, self._username, self._timeout = webhook_url, username, timeout
        self._session = session or requests.Session()

    def send(self, alert: RenderedAlert) -> None:
        """Post alert or raise DeliveryError (429 carries Discord's retry_after)."""
        try:
            resp = self._session.post(self._url, json=payload_for(alert, self._username), timeout=self._timeout)
        except requests.RequestException as exc:
            # The webhook URL is the secret, and requests quotes it in messages: name only the type.
            raise DeliveryError(f"discord: cannot reach the webhook ({type(exc).__name__})") from None
        if resp.status_code in (200, 204):
            return
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code == 429:
            retry_after = data.get("retry_after") or resp.headers.get("Retry-After")
            raise DeliveryError("discord: rate limited (429)",
                                retry_after=float(retry_after) if retry_after is not None else None)
        message = data.get("message") or resp.reason or ""
        raise DeliveryError(f"discord: HTTP {resp.status_code} {message}".strip(),
                            retryable=resp.status_code >= 500)
