"""Health: system metrics scraped from the worker's and the sentinel's Prometheus endpoints."""

import pandas as pd
import streamlit as st

from dashboard import common, gate
from dashboard.health import scrape

gate.require_actor()


@st.cache_data(ttl=5, show_spinner=False)
def _scrape(url: str):  # type: ignore[no-untyped-def]
    return scrape(url)


def body() -> None:
    st.title("Health")
    urls = common.settings().dashboard.scrape_urls
    if not urls:
        st.warning("No metrics endpoint configured: set dashboard.scrape_urls in the config, or "
                   "TRADEBOT_DASHBOARD__SCRAPE_URLS='[\"http://127.0.0.1:9108/metrics\"]'.")
        return
    for url in urls:
        res = _scrape(url)
        st.subheader(url)
        if not res.ok:
            st.error(f"Endpoint not reachable or unreadable ({res.error}).")
            continue
        df = pd.DataFrame(res.samples, columns=["metric", "labels", "value"])
        if df.empty:
            st.info("Reachable, but it exports none of the tradebot metrics yet.")
            continue
        st.dataframe(df, hide_index=True, width="stretch", key=f"metrics-{url}")


common.refreshing(body)
