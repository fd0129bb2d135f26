"""Positions: quantity, marks, unrealized PnL, stop and target levels, broker-side protection."""

import streamlit as st

from dashboard import common, gate
from tradebot.store import views_trading

gate.require_actor()


def body() -> None:
    st.title("Positions")
    if common.empty_ledger_notice():
        return
    run_id = common.selected_run()
    pos = common.read(views_trading.positions_detail, run_id)
    if pos.empty:
        st.info(f"No open positions in run {run_id}.")
    else:
        c1, c2 = st.columns(2)
        c1.metric("unrealized PnL", f"{pos['unrealized_pnl'].sum():+,.2f}")
        c2.metric("market value", f"{pos['market_value'].sum():,.2f}")
        st.dataframe(pos, hide_index=True, width="stretch", key="positions-table")
        unprotected = pos[pos["broker_protection"].str.startswith("none")]["symbol"].tolist()
        if unprotected:
            st.caption("No broker-side stop order for: " + ", ".join(unprotected)
                       + ". Their stops are enforced by the trade cycle and the stop sentinel.")
    st.subheader("Working orders")
    st.dataframe(common.read(views_trading.working_orders, run_id), hide_index=True, width="stretch")
    st.caption("Flatten a position or cancel orders on the Controls page (trader role).")


common.refreshing(body)
