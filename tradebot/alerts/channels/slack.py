"""Slack: Block Kit messages through the Web API (bot token) or an incoming webhook."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tradebot.alerts.channels import SEVERITY_EMOJI, DeliveryError
from tradebot.alerts.events import RenderedAlert

# Slack answers these when the configuration is wrong: retrying cannot help.
_PERMANENT = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "channel_not_found",
              "not_in_channel", "is_archived", "invalid_blocks", "missing_scope", "no_text"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocks_for(alert: RenderedAlert) -> list[dict[str, Any]]:
    """Return the Block Kit blocks for alert: header, text, fields (max 10), context."""
    blocks: list[dict[str, Any]] = [
        {"type": "header",
         "text": {"type": "plain_text", "text": _clip(f"{SEVERITY_EMOJI[alert.severity]} {alert.headline}", 150),
                  "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(alert.text or " ", 3000)}},
    ]
    if alert.fields:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": _clip(f"*{name}*\n{value}", 2000)} for name, value in alert.fields[:10]]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"`{alert.kind}` · severity *{alert.severity.value}* · key `{alert.key}`"}]})
    return blocks


class SlackBotChannel:
    """Posts with chat.postMessage using a bot token."""

    name = "slack"

    def __init__(self, token: str, channel: str, base_url: str = "https://slack.com/api/",
                 timeout: float = 10.0) -> None:
        # No retry handlers: the router owns retries so attempts are bounded and recorded in one place.
        self._client = WebClient(token=token, base_url=base_url, timeout=int(max(1, timeout)), retry_handlers=[])
        self._channel = channel

    def send(self, alert: RenderedAlert) -> None:
        """Post alert to the channel or raise DeliveryError with Slack's error code."""
        try:
            self._client.chat_postMessage(channel=self._channel, text=alert.headline, blocks=blocks_for(alert))
        except SlackApiError as exc:
            resp = exc.response
            error = resp.get("error") if isinstance(resp.data, dict) else None
            error = error or f"HTTP {resp.status_code}"
            retry_after = _seconds(resp.headers.get("Retry-After")) if error == "ratelimited" else None
            raise DeliveryError(f"slack: {error}", retryable=error not in _PERMANENT, retry_after=retry_after) from None
        except OSError as exc:
            raise DeliveryError(f"slack: cannot reach the Web API ({type(exc).__name__})") from None

    def auth_test(self) -> str:
        """Return the bot's user name, proving the token works."""
        try:
            return str(self._client.auth_test().get("user", ""))
        except SlackApiError as exc:
            raise DeliveryError(f"slack: {exc.response.get('error')}", retryable=False) from None


class SlackWebhookChannel:
    """Posts to an incoming-webhook URL."""

    name = "slack"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._client = WebhookClient(url, timeout=int(max(1, timeout)), retry_handlers=[])

    def send(self, alert: RenderedAlert) -> None:
        """Post alert to the webhook or raise DeliveryError with the HTTP status and body."""
        try:
            resp = self._client.send(text=alert.headline, blocks=blocks_for(alert))
        except OSError as exc:
            raise DeliveryError(f"slack webhook: cannot connect ({type(exc).__name__})") from None
        if resp.status_code != 200:
            retryable = resp.status_code == 429 or resp.status_code >= 500
            retry_after = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
            raise DeliveryError(f"slack webhook: HTTP {resp.status_code} {_clip(resp.body or '', 200)}",
                                retryable=retryable, retry_after=_seconds(retry_after))


def _seconds(value: object) -> float | None:
    # slack-sdk hands headers back as str or as one-item lists depending on the path taken.
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None  # type: ignore[arg-type]
    except ValueError:
        return None
