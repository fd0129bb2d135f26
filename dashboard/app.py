"""Streamlit dashboard entry: the login gate, then navigation over the pages in dashboard/views/.

Without a signed-in session only the login page is registered, so no other page can be reached by URL.
Run with `tradebot dashboard` (or `streamlit run dashboard/app.py`).
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, gate
from tradebot.auth import Role
from tradebot.store import views

st.set_page_config(page_title="tradebot", layout="wide")


def _sidebar() -> None:
    actor = gate.actor()
    assert actor is not None
    st.sidebar.markdown(f"**{actor.name}** · {actor.role.value}")
    if st.sidebar.button("Log out"):
        gate.logout()
        st.rerun()
    runs = common.read(views.runs)
    ids = list(runs["run_id"])
    if not ids:
        st.session_state["run_id"] = None
        return
    if st.session_state.get("run_id") not in ids:
        st.session_state["run_id"] = ids[0]
    st.sidebar.selectbox("run", ids, key="run_id")


def _pages() -> dict[str, list]:
    actor = gate.actor()
    assert actor is not None
    trading = [st.Page("views/overview.py", title="Overview", icon=":material/monitoring:", default=True),
               st.Page("views/positions.py", title="Positions", icon=":material/account_balance_wallet:"),
               st.Page("views/orders.py", title="Orders and fills", icon=":material/receipt_long:"),
               st.Page("views/signals.py", title="Signals and sentiment", icon=":material/newspaper:"),
               st.Page("views/market.py", title="Market", icon=":material/candlestick_chart:"),
               st.Page("views/performance.py", title="Performance", icon=":material/insights:")]
    ops = [st.Page("views/quality.py", title="Data quality", icon=":material/fact_check:"),
           st.Page("views/runs.py", title="Runs", icon=":material/account_tree:"),
           st.Page("views/alerts.py", title="Alerts", icon=":material/notifications:"),
           st.Page("views/audit.py", title="Audit log", icon=":material/history:"),
           st.Page("views/health.py", title="Health", icon=":material/health_metrics:")]
    manage = [st.Page("views/controls.py", title="Controls", icon=":material/tune:")]
    if actor.role is Role.ADMIN:
        manage.append(st.Page("views/users.py", title="Users", icon=":material/group:"))
    return {"Trading": trading, "Operations": ops, "Manage": manage}


if gate.still_signed_in(touch=True):
    _sidebar()
    page = st.navigation(_pages())
else:
    page = st.navigation([st.Page(gate.login_page, title="Log in", url_path="login")], position="hidden")
page.run()
