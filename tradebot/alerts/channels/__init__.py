"""Alert channels: each formats a RenderedAlert for one service and raises DeliveryError when it cannot."""

from __future__ import annotations

from typing import Protocol

from tradebot.alerts.config import AlertsConfig
from tradebot.alerts.events import RenderedAlert, Severity
from tradebot.errors import TradebotError

SEVERITY_EMOJI = {Severity.INFO: ":information_source:", Severity.WARNING: ":warning:",
                  Severity.ERROR: ":x:", Severity.CRITICAL: ":rotating_light:"}
SEVERITY_COLOR = {Severity.INFO: 0x2E86DE, Severity.WARNING: 0xF1C40F, Severity.ERROR: 0xE74C3C,
                  Severity.CRITICAL: 0x8E44AD}


class DeliveryError(TradebotError):
    """A channel could not deliver; retryable says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    """One place alerts go."""

    name: str

    def send(self, alert: RenderedAlert) -> None:
        """Deliver alert or raise DeliveryError."""
        ...


def build_channels(config: AlertsConfig) -> tuple[dict[str, Channel], dict[str, str]]:
    """Return (ready channels by name, reason by name for enabled channels that lack settings)."""
    from tradebot.alerts.channels.discord import DiscordChannel
    from tradebot.alerts.channels.email import EmailChannel
    from tradebot.alerts.channels.slack import SlackBotChannel, SlackWebhookChannel
    from tradebot.alerts.channels.telegram import TelegramChannel

    ready: dict[str, Channel] = {}
    broken: dict[str, str] = {}
    timeout = config.timeout_seconds
    for name, section in config.channel_sections():
        if not section.enabled:
            continue
        if (reason := section.missing()) is not None:
            broken[name] = f"alerts.{name} is enabled but {reason}"
            continue
        if name == "slack":
            s = config.slack
            if s.bot_token and s.channel:
                ready[name] = SlackBotChannel(s.bot_token.get_secret_value(), s.channel, s.base_url, timeout)
            elif s.webhook_url:
                ready[name] = SlackWebhookChannel(s.webhook_url.get_secret_value(), timeout)
        elif name == "email":
            e = config.email
            ready[name] = EmailChannel(e.host, e.port, e.sender, e.recipients, security=e.security,
                                       username=e.username,
                                       password=e.password.get_secret_value() if e.password else None,
                                       timeout=timeout)
        elif name == "telegram":
            t = config.telegram
            if t.bot_token and t.chat_id:
                ready[name] = TelegramChannel(t.bot_token.get_secret_value(), t.chat_id, t.base_url, timeout)
        elif name == "discord":
            d = config.discord
            if d.webhook_url:
                ready[name] = DiscordChannel(d.webhook_url.get_secret_value(), d.username, timeout)
    return ready, broken


__all__ = ["Channel", "DeliveryError", "SEVERITY_COLOR", "SEVERITY_EMOJI", "build_channels"]
