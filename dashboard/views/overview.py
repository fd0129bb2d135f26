"""Overview: equity, daily PnL, drawdown, exposure by asset class and by correlated cluster, kill switch."""

import streamlit as st

from dashboard import charts, common, gate, perf
from dashboard.exposure import exposure_frame
from tradebot.commands import trading_status
from tradebot.store import views, views_trading

gate.require_actor()


def body() -> None:
    st.title("Overview")
    switch = trading_status(common.sessions())
    if switch.paused:
        st.error(f"Kill switch ON: new orders are paused (by {switch.actor}: {switch.reason}). Protective exits "
                 "still go out.")
    else:
        st.success("Kill switch off: trading active." + (f" Last change by {switch.actor}." if switch.actor else ""))
    if common.empty_ledger_notice():
        return
    run_id = str(common.selected_run())
    runs = common.read(views.runs).set_index("run_id")
    initial = float(runs.loc[run_id, "initial_cash"])
    eq = common.read(views.equity_curve, run_id)
    pnl = common.read(views.daily_pnl, run_id)
    pos = common.read(views_trading.positions_detail, run_id)
    stats = perf.summary(eq, initial)
    last = float(eq["equity"].iloc[-1]) if len(eq) else initial
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("equity", f"{last:,.2f}", f"{last - initial:+,.2f}")
    c2.metric("cash", f"{eq['cash'].iloc[-1]:,.2f}" if len(eq) else f"{initial:,.2f}")
    c3.metric("last day PnL", f"{pnl['pnl'].iloc[-1]:+,.2f}" if len(pnl) else "n/a")
    c4.metric("max drawdown", f"{stats['max_drawdown']:.2%}")
    c5.metric("open positions", len(pos))
    if eq.empty:
        st.info("No equity marks in this run yet.")
        return
    st.plotly_chart(charts.equity_drawdown(perf.drawdown(eq)), key="equity-chart")
    if len(pnl):
        st.plotly_chart(charts.daily_pnl(pnl), key="pnl-chart")
    exp = exposure_frame(pos, last, run_id)
    left, right = st.columns(2)
    if exp.empty:
        st.caption("No open positions: no exposure.")
        return
    left.plotly_chart(charts.exposure(exp, "asset_class", "Exposure by asset class"), key="exp-class")
    right.plotly_chart(charts.exposure(exp, "cluster", "Exposure by correlated cluster"), key="exp-cluster")


common.refreshing(body)
