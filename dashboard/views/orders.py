"""Orders and fills: filterable; each order opens its provenance (signals, news with sentiment, risk decision)."""

import streamlit as st

from dashboard import common, gate
from tradebot.store import views, views_trading

gate.require_actor()


def _provenance(cid: str) -> None:
    p = common.read(views_trading.provenance, cid)
    if not p:
        st.warning(f"No intent recorded for {cid}.")
        return
    i, d, o = p["intent"], p["decision"], p["order"]
    st.markdown(f"**{i['side']} {i['qty']} {i['symbol']}** · strategy `{i['strategy']}` · cycle `{i['cycle_id']}`"
                f" · intent {i['status']}")
    if i["reason"]:
        st.caption(f"intent: {i['reason']}")
    if d:
        st.markdown(f"**Risk decision: {d['verdict']}** (requested {d['requested_qty']}, approved "
                    f"{d['approved_qty']})")
        for r in d["reasons"] or ["no reasons recorded"]:
            st.markdown(f"- {r}")
    if o:
        st.markdown(f"**Order**: {o['status']} at {o['broker']} · filled {o['filled_qty']} @ "
                    f"{o['avg_fill_price'] or '-'}" + (f" · rejected: {o['reject_reason']}" if o["reject_reason"]
                                                       else ""))
    st.markdown("**Signals on this symbol in the cycle**")
    st.dataframe(p["signals"], hide_index=True, width="stretch", key="prov-signals")
    st.markdown("**News behind the signals, with sentiment**")
    if p["news"].empty:
        st.caption("No news items linked (a technical or earnings signal, or a manual order).")
    else:
        st.dataframe(p["news"], hide_index=True, width="stretch", key="prov-news")


def body() -> None:
    st.title("Orders and fills")
    if common.empty_ledger_notice():
        return
    run_id = common.selected_run()
    all_orders = common.read(views.orders, run_id)
    f1, f2, f3 = st.columns(3)
    symbol = f1.selectbox("symbol", ["all", *sorted(all_orders["symbol"].unique())], key="orders-symbol")
    status = f2.selectbox("status", ["all", *sorted(all_orders["status"].unique())], key="orders-status")
    side = f3.selectbox("side", ["all", "buy", "sell"], key="orders-side")
    df = all_orders
    if symbol != "all":
        df = df[df["symbol"] == symbol]
    if status != "all":
        df = df[df["status"] == status]
    if side != "all":
        df = df[df["side"] == side]
    st.caption(f"{len(df)} of {len(all_orders)} orders")
    st.dataframe(df, hide_index=True, width="stretch", key="orders-table")
    if len(df):
        cid = st.selectbox("open an order's provenance", list(df["client_order_id"]), key="orders-cid",
                           format_func=lambda c: f"{c} · " + " ".join(
                               str(v) for v in df.loc[df["client_order_id"] == c, ["side", "qty", "symbol"]].iloc[0]))
        with st.expander(f"Provenance of {cid}", expanded=True):
            _provenance(cid)
    st.subheader("Fills")
    fills = common.read(views.fills, run_id)
    if symbol != "all":
        fills = fills[fills["symbol"] == symbol]
    st.dataframe(fills, hide_index=True, width="stretch", key="fills-table")


common.refreshing(body)
