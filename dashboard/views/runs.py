"""Runs: recent Prefect flow runs with state and links, and the latest artifacts, via the Prefect client."""

import json

import pandas as pd
import streamlit as st

from dashboard import common, gate, prefect_reads

gate.require_actor()


@st.cache_data(ttl=10, show_spinner=False)
def _runs(api: str) -> pd.DataFrame:
    return prefect_reads.recent_runs()


@st.cache_data(ttl=10, show_spinner=False)
def _artifacts(api: str) -> list:
    return prefect_reads.latest_artifacts()


def body() -> None:
    st.title("Runs")
    api = prefect_reads.api_url()
    if not api:
        st.warning("No Prefect API configured: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api) where the "
                   "dashboard runs to see flow runs and artifacts.")
        return
    try:
        runs, arts = _runs(api), _artifacts(api)
    except Exception as exc:  # noqa: BLE001 - an unreachable API is a message on the page, not a crash
        st.error(f"Prefect API at {api} is not reachable: {type(exc).__name__}")
        return
    st.caption(f"Prefect API: {api}")
    if runs.empty:
        st.info("No flow runs yet.")
    else:
        st.dataframe(runs, hide_index=True, width="stretch", key="flow-runs",
                     column_config={"link": st.column_config.LinkColumn("link", display_text="open")})
    st.subheader("Latest artifacts")
    if not arts:
        st.caption("No artifacts yet.")
    for a in arts:
        with st.expander(f"{a['key']} · {a['type']} · {a['updated']:%Y-%m-%d %H:%M}Z"):
            st.caption(a["description"])
            if a["type"] == "markdown":
                st.markdown(a["data"])
            elif a["type"] == "table":
                data = json.loads(a["data"]) if isinstance(a["data"], str) else a["data"]
                st.dataframe(pd.DataFrame(data if isinstance(data, list) else []), hide_index=True)
            else:
                st.write(a["data"])


common.refreshing(body)
