"""Shared fixtures: a migrated throwaway SQLite ledger; quiet telemetry for every library."""

import os

for _k, _v in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}.items():
    os.environ.setdefault(_k, _v)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Keep tests away from a developer's TRADEBOT_* variables and ./tradebot.json."""
    for key in list(os.environ):
        if key.startswith("TRADEBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ledger_url(tmp_path) -> str:
    """Return the URL of a freshly migrated SQLite ledger."""
    from tradebot.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    return url


@pytest.fixture
def sessions(ledger_url):
    """Return a session factory on the migrated ledger."""
    from tradebot.store.db import make_engine, session_factory

    return session_factory(make_engine(ledger_url))
