"""Telegram: sendMessage through the bot API with HTML formatting."""

from __future__ import annotations

from html import escape
from typing import Any

import requests

from tradebot.alerts.channels import DeliveryError
from tradebot.alerts.events import RenderedAlert

_LIMIT = 4096  # Telegram refuses longer messages


def text_for(alert: RenderedAlert) -> str:
    """Return the HTML-formatted message text (Telegram's HTML subset)."""
    lines = [f"<b>{escape(alert.headline)}</b>", escape(alert.text)]
    lines += [f"<b>{escape(n)}:</b> {escape(v)}" for n, v in alert.fields]
    lines.append(f"<code>{escape(alert.key)}</code>")
    text = "\n".join(lines)
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


class TelegramChannel:
    """Posts to one chat with a bot token."""

    name = "telegram"

    def __init__(self, token: str, chat_id: str, base_url: str = "https://api.telegram.org",
                 timeout: float = 10.0, session: requests.Session | None = None) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self._base = base_url
        self._chat_id, self._timeout = chat_id, timeout
        self._session = session or requests.Session()

    def send(self, alert: RenderedAlert) -> None:
        """Send alert or raise DeliveryError with Telegram's description (never the token-bearing URL)."""
        body: dict[str, Any] = {"chat_id": self._chat_id, "text": text_for(alert), "parse_mode": "HTML",
                "disable_web_page_preview": True}
        try:
            resp = self._session.post(self._url, json=body, timeout=self._timeout)
        except requests.RequestException as exc:
            # requests puts the URL, and so the token, in its messages: name only the type.
            raise DeliveryError(f"telegram: cannot reach {self._base} ({type(exc).__name__})") from None
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code == 200 and data.get("ok"):
            return
        description = data.get("description") or resp.reason or "no description"
        retry_after = (data.get("parameters") or {}).get("retry_after")
        retryable = resp.status_code == 429 or resp.status_code >= 500
        raise DeliveryError(f"telegram: HTTP {resp.status_code} {description}", retryable=retryable,
                            retry_after=float(retry_after) if retry_after is not None else None)
