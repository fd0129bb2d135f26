"""Streamlit dashboard: one page over the ledger (equity, positions, orders with their risk reasons, fills)."""

from __future__ import annotations

import os

import streamlit as st

from tradebot.store import views
from tradebot.store.db import make_engine, redact_url, session_factory


@st.cache_resource
def _sessions(url: str):  # type: ignore[no-untyped-def]
    return session_factory(make_engine(url))


def _ledger_url() -> str:
    url = os.environ.get("TRADEBOT_DASHBOARD_LEDGER_URL")
    if url:
        return url
    from tradebot.config import load_settings

    return load_settings().ledger_url


@st.cache_data(ttl=5)
def _load(url: str, run_id: str | None) -> dict:
    with _sessions(url)() as s:
        runs = views.runs(s)
        run_id = run_id or (runs["run_id"].iloc[0] if len(runs) else None)
        if run_id is None:
            return {"runs": runs}
        return {"runs": runs, "run_id": run_id, "equity": views.equity_curve(s, run_id),
                "positions": views.positions(s, run_id), "orders": views.orders(s, run_id),
                "fills": views.fills(s, run_id)}


def main() -> None:
    """Render the ledger page."""
    st.set_page_config(page_title="tradebot", layout="wide")
    url = _ledger_url()
    st.title("tradebot ledger")
    st.caption(f"ledger: {redact_url(url)}")
    data = _load(url, None)
    if data["runs"].empty:
        st.info("The ledger has no runs yet: run `make demo` (or `tradebot demo`) first.")
        return
    run_id = st.selectbox("run", list(data["runs"]["run_id"]), index=0)
    if run_id != data["run_id"]:
        data = _load(url, run_id)
    eq = data["equity"]
    if not eq.empty:
        initial = float(data["runs"].set_index("run_id").loc[run_id, "initial_cash"])
        last = eq["equity"].iloc[-1]
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("equity", f"{last:,.2f}", f"{last - initial:+,.2f}")
        c2.metric("cash", f"{eq['cash'].iloc[-1]:,.2f}")
        c3.metric("open positions", len(data["positions"]))
        c4.metric("fills", len(data["fills"]))
        st.subheader("Equity")
        st.line_chart(eq.set_index("ts")[["equity", "cash", "positions_value"]])
    st.subheader("Positions")
    st.dataframe(data["positions"], hide_index=True, width="stretch")
    st.subheader("Orders (with the risk decision that let each through)")
    st.dataframe(data["orders"], hide_index=True, width="stretch")
    st.subheader("Fills")
    st.dataframe(data["fills"], hide_index=True, width="stretch")


main()
