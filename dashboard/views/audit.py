"""Audit log: who did what, when, with the state before and after; the hash chain's verdict."""

import streamlit as st

from dashboard import common, gate
from tradebot.store import views_ops
from tradebot.store.audit import verify_chain

gate.require_actor()


def body() -> None:
    st.title("Audit log")
    prefix = st.selectbox("actions", ["all", "trading.", "position.", "orders.", "flow.", "risk.", "users.", "auth.",
                                      "keys."], key="audit-prefix")
    with common.sessions()() as s:
        report = verify_chain(s)
    if report.ok:
        st.success(f"Hash chain intact over {report.entries} entries.")
    else:
        st.error(f"Hash chain broken at entry {report.first_broken_id}: {report.problem}")
    df = common.read(views_ops.audit_log, 500, None if prefix == "all" else prefix)
    st.dataframe(df, hide_index=True, width="stretch", key="audit-table")


common.refreshing(body)
