"""What every page shares: settings, the ledger session factory, the signed-in actor, run selection, refresh."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from tradebot.store.db import make_engine, session_factory

LEDGER_ENV = "TRADEBOT_DASHBOARD_LEDGER_URL"
CONFIG_ENV = "TRADEBOT_DASHBOARD_CONFIG_FILE"


def _env_key() -> str:
    return json.dumps(sorted((k, v) for k, v in os.environ.items() if k.startswith("TRADEBOT_")))


@st.cache_resource(show_spinner=False)
def _settings(env_key: str) -> Any:
    from tradebot.config import load_settings

    path = os.environ.get(CONFIG_ENV)
    return load_settings(Path(path) if path else None)


def settings() -> Any:
    """Return the Settings (config file + TRADEBOT_* environment), built once per distinct environment."""
    return _settings(_env_key())


def ledger_url() -> str:
    """Return the ledger URL: TRADEBOT_DASHBOARD_LEDGER_URL (set by `tradebot dashboard`) or the config's."""
    return os.environ.get(LEDGER_ENV) or settings().ledger_url


@st.cache_resource(show_spinner=False)
def _sessions(url: str) -> sessionmaker[Session]:
    return session_factory(make_engine(url))


def sessions() -> sessionmaker[Session]:
    """Return the ledger's session factory (one engine per URL for the whole server)."""
    return _sessions(ledger_url())


def read(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a read view fn(session, *args) through the shared short-TTL cache."""
    return _cached_read(ledger_url(), fn.__module__, fn.__name__, args)


# Five seconds: every viewer and every auto-refresh within it share one query per view and argument set.
@st.cache_data(ttl=5, show_spinner=False, max_entries=512)
def _cached_read(url: str, module: str, name: str, args: tuple) -> Any:
    import importlib

    fn = getattr(importlib.import_module(module), name)
    with _sessions(url)() as s:
        return fn(s, *args)


def invalidate() -> None:
    """Drop cached reads after a command changed the ledger, so the page shows the new state at once."""
    _cached_read.clear()


def selected_run() -> str | None:
    """Return the run chosen in the sidebar (newest by default), or None on an empty ledger."""
    return st.session_state.get("run_id")


def refreshing(body: Callable[[], None]) -> None:
    """Render body inside a fragment that re-runs every refresh_seconds (the auto-refresh), or once."""
    every = settings().dashboard.refresh_seconds

    @st.fragment(run_every=every if every > 0 else None)
    def _frag() -> None:
        from dashboard.gate import still_signed_in

        if not still_signed_in():
            st.rerun()  # the session timed out while the page sat open: back to the login page
        body()

    _frag()


def empty_ledger_notice() -> bool:
    """Show how to fill an empty ledger; return True when there is nothing to show."""
    if selected_run() is None:
        st.info("The ledger has no runs yet: run `make demo` (or `tradebot demo`) first.")
        return True
    return False
