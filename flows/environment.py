"""Process environment for Prefect and friends, set before any of them is imported."""

from __future__ import annotations

import os

from tradebot.config import Settings

QUIET = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    # A fresh temporary server needs 7-17 s here to build its database; the default 20 s is too tight.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def prepare(settings: Settings, verbose: bool = False) -> None:
    """Point Prefect at the project's home and silence telemetry; keep user-set values."""
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    settings.home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    if not verbose:
        # Run logs still reach the Prefect API (the UI shows them); only the terminal stays quiet, so a
        # failing command prints its one-line error instead of Prefect's traceback.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
