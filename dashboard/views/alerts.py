"""Alerts: what every stage raised and what became of its delivery."""

import streamlit as st

from dashboard import common, gate
from tradebot.store import views_ops

gate.require_actor()


def body() -> None:
    st.title("Alerts")
    sev = st.selectbox("severity", ["all", "info", "warning", "critical"], key="alerts-severity")
    df = common.read(views_ops.alerts, 500, None if sev == "all" else sev)
    if df.empty:
        st.info("No alerts.")
        return
    st.dataframe(df, hide_index=True, width="stretch", key="alerts-table")


common.refreshing(body)
