"""Building the alert router from Settings, with channel secrets looked up in the keyring."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradebot.alerts.config import AlertsConfig
from tradebot.alerts.router import AlertRouter


def alerts_config(settings: Any) -> AlertsConfig:
    """Return settings.alerts with any channel secret missing from the config filled from the keyring."""
    from tradebot.adapters.secrets import open_secret_store

    return settings.alerts.with_keyring_secrets(open_secret_store(settings.home).get)


def build_router(settings: Any, sessions: sessionmaker[Session]) -> AlertRouter:
    """Return the alert router for settings, recording into the ledger behind sessions."""
    return AlertRouter(alerts_config(settings), sessions)
