"""API keys in the OS keyring (or an encrypted file for headless servers), with an environment fallback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tradebot.errors import ConfigError

SERVICE = "tradebot"
PASSWORD_ENV = "TRADEBOT_KEYRING_PASSWORD"  # noqa: S105 - the variable's name, not a password
ENV_PREFIX = "TRADEBOT_SECRET_"
SECRET_NAMES: dict[str, str] = {
    "alpaca_key_id": "Alpaca API key id",
    "alpaca_secret_key": "Alpaca API secret key",
    "binance_api_key": "Binance API key",
    "binance_api_secret": "Binance API secret",
    "newsapi_key": "NewsAPI key",
    "finnhub_token": "earnings provider (Finnhub) token",
    "slack_token": "Slack bot token or webhook URL",
    "smtp_password": "SMTP password",
    "telegram_token": "Telegram bot token",
    "discord_webhook": "Discord webhook URL",
}


@dataclass(frozen=True)
class SecretInfo:
    """What `keys list` may show: never the value."""

    name: str
    description: str
    source: str  # keyring | environment | missing
    rotated_at: datetime | None


class SecretStore:
    """Reads keys at use with a short cache, so a rotation takes effect without restarting flows."""

    def __init__(self, backend: Any | None, env: Mapping[str, str], clock: Callable[[], datetime],
                 ttl: timedelta = timedelta(seconds=30)) -> None:
        self._backend, self._env, self._clock, self._ttl = backend, env, clock, ttl
        self._cache: dict[str, tuple[datetime, str | None]] = {}

    def get(self, name: str) -> str | None:
        """Return the secret's value from the keyring, else the environment, else None."""
        _check(name)
        now = self._clock()
        hit = self._cache.get(name)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = self._backend.get_password(SERVICE, name) if self._backend is not None else None
        value = value if value is not None else self._env.get(ENV_PREFIX + name.upper())
        self._cache[name] = (now, value)
        return value

    def set(self, name: str, value: str) -> datetime:
        """Store (or replace) a secret and stamp its rotation time; return that time."""
        _check(name)
        if not value:
            raise ConfigError(f"secret {name}: an empty value is not a key")
        backend = self._require_backend()
        now = self._clock()
        backend.set_password(SERVICE, name, value)
        backend.set_password(SERVICE, f"{name}:rotated_at", now.isoformat())
        self._cache.pop(name, None)
        return now

    def rotate(self, name: str, value: str) -> datetime:
        """Replace an existing secret; refuse to rotate one that was never set."""
        if self._require_backend().get_password(SERVICE, name) is None:
            raise ConfigError(f"secret {name} is not in the keyring: use `tradebot keys set {name}` first")
        return self.set(name, value)

    def delete(self, name: str) -> None:
        """Remove a secret and its rotation stamp from the keyring."""
        _check(name)
        backend = self._require_backend()
        import keyring.errors

        for entry in (name, f"{name}:rotated_at"):
            with contextlib.suppress(keyring.errors.PasswordDeleteError):  # already gone is fine
                backend.delete_password(SERVICE, entry)
        self._cache.pop(name, None)

    def list(self) -> list[SecretInfo]:
        """Describe every known secret: where it comes from and when it was last rotated."""
        out = []
        for name, desc in SECRET_NAMES.items():
            in_ring = self._backend is not None and self._backend.get_password(SERVICE, name) is not None
            stamp = self._backend.get_password(SERVICE, f"{name}:rotated_at") if in_ring else None
            source = "keyring" if in_ring else "environment" if ENV_PREFIX + name.upper() in self._env else "missing"
            out.append(SecretInfo(name, desc, source, datetime.fromisoformat(stamp) if stamp else None))
        return out

    def values(self) -> list[str]:
        """Return every secret value present (for redaction filters), never for display."""
        return [v for v in (self.get(n) for n in SECRET_NAMES) if v]

    def _require_backend(self) -> Any:
        if self._backend is None:
            raise ConfigError(f"no usable keyring: set {PASSWORD_ENV} to use the encrypted file keyring")
        return self._backend


def _check(name: str) -> None:
    if name not in SECRET_NAMES:
        raise ConfigError(f"unknown secret {name!r}; known: {', '.join(SECRET_NAMES)}")


def open_secret_store(home: Path, env: Mapping[str, str] | None = None,
                      clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> SecretStore:
    """Use the encrypted file keyring under home when its password is set, else the OS keyring if usable."""
    env = dict(os.environ if env is None else env)
    password = env.get(PASSWORD_ENV)
    if password:
        from keyrings.cryptfile.cryptfile import CryptFileKeyring

        ring = CryptFileKeyring()
        home.mkdir(parents=True, exist_ok=True)
        ring.file_path = str(home / "keyring.cfg")
        ring.keyring_key = password  # unlock from code: the backend would otherwise prompt on a terminal
        return SecretStore(ring, env, clock)
    import keyring

    backend = keyring.get_keyring()
    # keyring reports priority 0 for its "fail" and empty-chain backends: nothing can be stored there.
    usable = float(getattr(backend, "priority", 0)) > 0
    return SecretStore(backend if usable else None, env, clock)
