"""Market: interactive candlesticks with signals, entries, exits and the current stop levels."""

import streamlit as st

from dashboard import charts, common, gate
from tradebot.store import views_market

gate.require_actor()


def body() -> None:
    st.title("Market")
    syms = common.read(views_market.symbols)
    if not syms:
        st.info("No instruments in the ledger yet: run `make demo` first.")
        return
    symbol = st.selectbox("symbol", syms, key="market-symbol")
    n = st.slider("bars", 30, 1000, 250, step=10, key="market-bars")
    bars = common.read(views_market.bars, symbol, common.settings().data.timeframe, n)
    if bars.empty:
        st.info(f"No {common.settings().data.timeframe} bars stored for {symbol}.")
        return
    run_id = common.selected_run()
    sig = common.read(views_market.signals_for, run_id, symbol) if run_id else None
    fills = common.read(views_market.fills_for, run_id, symbol) if run_id else None
    levels = common.read(views_market.stop_levels, run_id, symbol) if run_id else {}
    import pandas as pd

    empty = pd.DataFrame(columns=["ts", "direction", "strategy", "side", "price"])
    st.plotly_chart(charts.candles(bars, symbol, sig if sig is not None else empty,
                                   fills if fills is not None else empty, levels), key="candles")
    if levels:
        st.caption(" · ".join(f"{k}: {v:,.2f}" for k, v in levels.items()))


common.refreshing(body)
