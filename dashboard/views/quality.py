"""Data quality: Great Expectations results per batch and the quarantined rows."""

import streamlit as st

from dashboard import common, gate
from tradebot.store import views_ops

gate.require_actor()


def body() -> None:
    st.title("Data quality")
    failed_only = st.toggle("failures only", key="dq-failed")
    res = common.read(views_ops.quality_results, 500, failed_only)
    if res.empty:
        st.info("No validation results yet.")
    else:
        c1, c2 = st.columns(2)
        c1.metric("expectations shown", len(res))
        c2.metric("failed", int((~res["success"].astype(bool)).sum()))
        st.dataframe(res, hide_index=True, width="stretch", key="dq-table")
    st.subheader("Quarantine")
    q = common.read(views_ops.quarantine)
    if q.empty:
        st.caption("Nothing quarantined.")
    else:
        st.dataframe(q, hide_index=True, width="stretch", key="quarantine-table")


common.refreshing(body)
