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


@pytest.fixture(scope="session")
def template_ledger(tmp_path_factory) -> Path:
    """Migrate one SQLite ledger per session; tests get copies (migrating each time costs ~0.5 s)."""
    from tradebot.store.db import upgrade

    path = tmp_path_factory.mktemp("ledger") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def ledger_url(template_ledger, tmp_path) -> str:
    """Return the URL of a fresh, fully migrated SQLite ledger of this test's own."""
    import sqlite3

    target = tmp_path / "ledger.db"
    with sqlite3.connect(template_ledger) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


@pytest.fixture
def sessions(ledger_url):
    """Return a session factory on the migrated ledger."""
    from tradebot.store.db import make_engine, session_factory

    return session_factory(make_engine(ledger_url))
