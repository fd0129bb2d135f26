"""Signals and sentiment: per-symbol sentiment over time and the strongest headlines."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, common, gate
from tradebot.store import views_market

gate.require_actor()


def body() -> None:
    st.title("Signals and sentiment")
    syms = common.read(views_market.symbols)
    if not syms:
        st.info("No instruments in the ledger yet: run `make demo` first.")
        return
    chosen = st.multiselect("symbols", syms, default=syms[: min(4, len(syms))], key="sent-symbols")
    days = st.slider("days", 7, 180, 60, key="sent-days")
    if not chosen:
        return
    run_id = common.selected_run()
    # Anchor the window on the newest mark of the run (replays live in the past), else on now.
    anchor = pd.Timestamp.now(tz="UTC")
    if run_id:
        from tradebot.store import views

        eq = common.read(views.equity_curve, run_id)
        if len(eq):
            anchor = pd.Timestamp(eq["ts"].iloc[-1])
    since = (anchor - timedelta(days=days)).floor("D").to_pydatetime()
    daily = common.read(views_market.sentiment_daily, tuple(chosen), since)
    if daily.empty:
        st.info("No scored news for these symbols in the window.")
    else:
        st.plotly_chart(charts.sentiment(daily), key="sentiment-chart")
    st.subheader("Top headlines (strongest sentiment)")
    st.dataframe(common.read(views_market.top_headlines, tuple(chosen), since), hide_index=True, width="stretch",
                 key="headlines-table", column_config={"url": st.column_config.LinkColumn("url")})
    if run_id:
        st.subheader("Recent signals")
        sym = st.selectbox("signals for", chosen, key="sent-signal-symbol")
        st.dataframe(common.read(views_market.signals_for, run_id, sym), hide_index=True, width="stretch")


common.refreshing(body)
