"""Performance: returns, Sharpe, Sortino, max drawdown, and win rate per strategy."""

import math

import streamlit as st

from dashboard import common, gate, perf
from tradebot.store import views, views_trading

gate.require_actor()


def _fmt(v: float, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.2%}" if pct else f"{v:.2f}"


def body() -> None:
    st.title("Performance")
    if common.empty_ledger_notice():
        return
    run_id = common.selected_run()
    initial = float(common.read(views.runs).set_index("run_id").loc[run_id, "initial_cash"])
    eq = common.read(views.equity_curve, run_id)
    s = perf.summary(eq, initial)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("total return", _fmt(s["total_return"], True))
    c2.metric("Sharpe (ann.)", _fmt(s["sharpe"]))
    c3.metric("Sortino (ann.)", _fmt(s["sortino"]))
    c4.metric("max drawdown", _fmt(s["max_drawdown"], True))
    st.caption(f"from {int(s['days'])} daily returns; ratios annualized with 252 periods")
    st.subheader("Per strategy (closed round trips, fees included)")
    table = perf.per_strategy(common.read(views_trading.strategy_trades, run_id))
    if table.empty:
        st.info("No closed trades yet in this run.")
    else:
        st.dataframe(table, hide_index=True, width="stretch", key="strategy-table",
                     column_config={c: st.column_config.NumberColumn(format="percent")
                                    for c in ("win_rate", "mean_return", "total_return", "best", "worst")})


common.refreshing(body)
