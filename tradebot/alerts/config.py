"""The `alerts` settings section: channels, routing rules, de-duplication window and retry policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from tradebot.alerts.events import KINDS, Severity


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _ChannelSection(_Section):
    """Routing shared by every channel.

    enabled: deliver to this channel at all.
    kinds: alert kinds this channel takes; empty means every kind.
    min_severity: drop alerts below this severity for this channel.
    """

    enabled: bool = False
    kinds: tuple[str, ...] = ()
    min_severity: Severity = Severity.WARNING

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(v) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown alert kinds {unknown}; valid: {list(KINDS)}")
        return v

    def missing(self) -> str | None:
        """Return what this channel still needs before it can deliver, or None when it is ready."""
        return None

    def accepts(self, kind: str, severity: Severity) -> bool:
        """Return True when this channel is enabled and its rule takes the kind at this severity."""
        return self.enabled and (not self.kinds or kind in self.kinds) and severity.rank >= self.min_severity.rank


class SlackConfig(_ChannelSection):
    """Slack via a bot token and channel (Web API, chat.postMessage) or an incoming-webhook URL.

    bot_token / channel: Web API delivery; wins when both it and webhook_url are set.
    webhook_url: incoming webhook (the URL itself is the secret).
    base_url: Web API root, with the trailing slash; tests point it at 127.0.0.1.
    """

    bot_token: SecretStr | None = None
    channel: str | None = None
    webhook_url: SecretStr | None = None
    base_url: str = "https://slack.com/api/"

    def missing(self) -> str | None:
        """Return what an enabled Slack channel still needs, or None when it can deliver."""
        if (self.bot_token and self.channel) or self.webhook_url:
            return None
        return "needs bot_token and channel, or webhook_url (or `tradebot keys set slack_token`)"


class EmailConfig(_ChannelSection):
    """Email through an SMTP server.

    security: "ssl" (implicit TLS, usually port 465), "starttls" (usually 587) or "none" (local relays only).
    username / password: SMTP login; omit both for an unauthenticated relay.
    """

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "tradebot@localhost"
    recipients: tuple[str, ...] = ()

    def missing(self) -> str | None:
        """Return what an enabled email channel still needs, or None when it can deliver."""
        if not self.recipients:
            return "needs at least one address in recipients"
        if self.username and not self.password:
            return "has a username but no password (or `tradebot keys set smtp_password`)"
        return None


class TelegramConfig(_ChannelSection):
    """Telegram bot API: POST {base_url}/bot{bot_token}/sendMessage to chat_id."""

    bot_token: SecretStr | None = None
    chat_id: str | None = None
    base_url: str = "https://api.telegram.org"

    def missing(self) -> str | None:
        """Return what an enabled Telegram channel still needs, or None when it can deliver."""
        if self.bot_token and self.chat_id:
            return None
        return "needs bot_token and chat_id (or `tradebot keys set telegram_token`)"


class DiscordConfig(_ChannelSection):
    """Discord incoming webhook (the URL holds the token, so it is a secret)."""

    webhook_url: SecretStr | None = None
    username: str | None = "tradebot"

    def missing(self) -> str | None:
        """Return what an enabled Discord channel still needs, or None when it can deliver."""
        return None if self.webhook_url else "needs webhook_url (or `tradebot keys set discord_webhook`)"


CHANNEL_NAMES: tuple[str, ...] = ("slack", "email", "telegram", "discord")
# Names in tradebot.adapters.secrets.SECRET_NAMES that can fill a missing secret from the keyring.
_KEYRING_SECRETS: dict[tuple[str, str], str] = {
    ("slack", "bot_token"): "slack_token",
    ("email", "password"): "smtp_password",
    ("telegram", "bot_token"): "telegram_token",
    ("discord", "webhook_url"): "discord_webhook",
}


class AlertsConfig(_Section):
    """Where alerts go and how often.

    window_seconds: repeats of one key inside this window collapse into one message plus an "(xN)" summary.
    rate_limit / rate_window_seconds: at most this many messages per channel per window (critical bypasses).
    retries: extra attempts after a failed delivery; backoff doubles from retry_backoff_seconds up to the max.
    timeout_seconds: per-request network timeout for every channel.
    """

    enabled: bool = True
    window_seconds: float = Field(default=300, ge=0)
    rate_limit: int = Field(default=30, ge=1)
    rate_window_seconds: float = Field(default=60, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    retry_backoff_max_seconds: float = Field(default=30.0, ge=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    slack: SlackConfig = SlackConfig()
    email: EmailConfig = EmailConfig()
    telegram: TelegramConfig = TelegramConfig()
    discord: DiscordConfig = DiscordConfig()

    def channel_sections(self) -> Iterator[tuple[str, _ChannelSection]]:
        """Yield (name, section) for every channel, enabled or not."""
        for name in CHANNEL_NAMES:
            yield name, getattr(self, name)

    def secret_values(self) -> list[str]:
        """Return every secret this section holds, for registering with the log redactor."""
        out: list[str] = []
        for _, section in self.channel_sections():
            for value in section.__dict__.values():
                if isinstance(value, SecretStr) and value.get_secret_value():
                    out.append(value.get_secret_value())
        return out

    def with_keyring_secrets(self, lookup: Callable[[str], str | None]) -> AlertsConfig:
        """Return a copy whose missing channel secrets are filled by lookup(name) (e.g. SecretStore.get)."""
        updates: dict[str, dict[str, SecretStr]] = {}
        for (channel, field), name in _KEYRING_SECRETS.items():
            section = getattr(self, channel)
            if getattr(section, field) is not None or not (value := lookup(name)):
                continue
            # The keyring's slack_token may hold either a bot token or a webhook URL.
            if channel == "slack" and value.startswith("https://"):
                if section.webhook_url is None:
                    updates.setdefault(channel, {})["webhook_url"] = SecretStr(value)
                continue
            updates.setdefault(channel, {})[field] = SecretStr(value)
        if not updates:
            return self
        return self.model_copy(update={ch: getattr(self, ch).model_copy(update=vals) for ch, vals in updates.items()})
