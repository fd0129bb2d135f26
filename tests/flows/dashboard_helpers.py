"""Helpers for the dashboard AppTests: a per-test copy of the replayed ledger with users, and a login."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PASSWORDS = {"vera": "viewer password", "tina": "trader password", "adam": "admin password"}
ROLES = {"vera": "viewer", "tina": "trader", "adam": "admin"}


def copy_ledger(url: str, target: Path) -> str:
    """Copy the SQLite ledger at url to target (so a test can change it) and return the copy's URL."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def add_users(url: str) -> None:
    """Add the viewer, trader and admin the tests log in as."""
    from tradebot.commands import add_user, cli_actor
    from tradebot.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(url))
    for name, role in ROLES.items():
        add_user(sessions, cli_actor(), name, PASSWORDS[name], role)


def start(url: str, monkeypatch, **env: str) -> AppTest:
    """Return the app, run once (the login page), on the ledger at url with auto-refresh off."""
    monkeypatch.setenv("TRADEBOT_DASHBOARD_LEDGER_URL", url)
    monkeypatch.setenv("TRADEBOT_DASHBOARD__REFRESH_SECONDS", "0")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return AppTest.from_file(APP, default_timeout=60).run()


def login(at: AppTest, name: str, password: str | None = None) -> AppTest:
    """Fill and submit the login form."""
    at.text_input[0].input(name)
    at.text_input[1].input(PASSWORDS.get(name, "") if password is None else password)
    at.button[0].click().run()
    return at


def page(at: AppTest, path: str) -> AppTest:
    """Switch to a page file under dashboard/ and run it."""
    return at.switch_page(path).run()
