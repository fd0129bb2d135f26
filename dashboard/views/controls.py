"""Controls: kill switch, flatten, cancel orders, trigger a flow run, risk limits. Each confirms and is audited."""

import json

import streamlit as st

from dashboard import common, gate, prefect_reads
from dashboard.controls import allowed, confirmed_action
from tradebot import commands
from tradebot.auth import Role
from tradebot.store import views_ops, views_trading

actor = gate.require_actor()
cfg = common.settings()
sessions = common.sessions()
account = cfg.paper.account
trader, admin = allowed(actor, Role.TRADER), allowed(actor, Role.ADMIN)

st.title("Controls")
st.caption(f"Acting as **{actor.name}** ({actor.role.value}) on account `{account}`. Every action asks for "
           "confirmation and is written to the audit log.")
if not trader:
    st.info("Your role (viewer) reads only: the controls below are disabled, and the commands refuse you anyway.")

st.header("Kill switch")
switch = commands.trading_status(sessions)
st.markdown(f"Trading is **{'PAUSED' if switch.paused else 'active'}**"
            + (f" (set by {switch.actor}: {switch.reason})" if switch.actor else ""))
reason = st.text_input("reason", key="switch-reason", placeholder="why (goes to the audit log)")


def _switch(pause: bool) -> str:
    st_ = (commands.pause_trading if pause else commands.resume_trading)(sessions, actor, reason)
    from tradebot.alerts import KillSwitch
    from tradebot.alerts.setup import build_router

    # Same alert as the CLI's toggle; a channel that is down is recorded by the router, never fatal.
    with build_router(cfg, sessions) as router:
        router.send(KillSwitch(engaged=pause, actor=st_.actor, reason=st_.reason))
    return f"trading {'paused' if pause else 'resumed'} by {st_.actor}"


if switch.paused:
    confirmed_action("resume", "Resume trading", "Resume trading: new orders will go out again?",
                     lambda: _switch(False), trader)
else:
    confirmed_action("pause", "Pause trading", "Pause trading: no new orders until resumed (exits still go out)?",
                     lambda: _switch(True), trader)

st.header("Flatten a position")
held = common.read(views_trading.positions_detail, account)
if held.empty:
    st.caption(f"No open positions on account {account}.")
else:
    symbol = st.selectbox("position", list(held["symbol"]), key="flatten-symbol")
    flat_reason = st.text_input("reason", key="flatten-reason")
    send_now = st.checkbox("send to the broker now (otherwise the next trade cycle sends it)", key="flatten-now")

    def _flatten() -> str:
        broker = commands.configured_broker(cfg, sessions) if send_now else None
        r = commands.flatten_position(sessions, actor, account, symbol, flat_reason, broker=broker)
        verb = "wrote" if r.created else "already written:"
        tail = f"broker status {r.order_status} {r.reject_reason}" if send_now else "the next trade cycle sends it"
        return f"{verb} {r.side} {r.qty} {r.symbol} at market ({r.client_order_id}); {tail}"

    confirmed_action("flatten", f"Flatten {symbol}", f"Sell/cover the whole {symbol} position at market?",
                     _flatten, trader)

st.header("Cancel open orders")
working = common.read(views_trading.working_orders, account)
st.caption(f"{len(working)} working order(s) on {account}.")
target = st.selectbox("which", ["all", *sorted(working["symbol"].unique())], key="cancel-symbol")


def _cancel() -> str:
    broker = commands.configured_broker(cfg, sessions)
    r = commands.cancel_open_orders(sessions, actor, account, broker, None if target == "all" else target,
                                    "dashboard")
    return "no working orders" if not r.outcomes else "; ".join(f"{k}: {v}" for k, v in r.outcomes.items())


confirmed_action("cancel", "Cancel orders", f"Cancel {target} working orders at the broker?", _cancel, trader)

st.header("Trigger a flow run")
known: list[str] = []
if prefect_reads.api_url():
    try:
        known = prefect_reads.deployments()
    except Exception:  # noqa: BLE001 - the text box still works when the list cannot be read
        known = []
deployment = (st.selectbox("deployment", known, key="flow-deployment") if known else
              st.text_input("deployment (flow/deployment)", "trade_cycle/trade-cycle-1d", key="flow-deployment-text"))
params_text = st.text_area("parameters (JSON object)", "{}", key="flow-params", height=68)


def _trigger() -> str:
    try:
        params = json.loads(params_text or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"parameters are not valid JSON: {exc.msg}") from None
    if not isinstance(params, dict):
        raise ValueError("parameters must be a JSON object")
    run_id = commands.trigger_flow(sessions, actor, deployment, params, "dashboard")
    return f"flow run {run_id} scheduled for {deployment}"


confirmed_action("trigger", "Run now", f"Start a run of {deployment}?", _trigger, trader)

st.header("Risk limits")
with sessions() as s:
    effective = commands.effective_risk(s, cfg.risk)
fields = list(type(cfg.risk).model_fields)
st.dataframe(common.read(views_ops.risk_overrides), hide_index=True, key="overrides-table")
key = st.selectbox("limit", fields, key="limit-key", format_func=lambda k: f"{k} (now {getattr(effective, k)})")
value = st.text_input("new value", str(getattr(effective, key)), key=f"limit-value-{key}")
limit_reason = st.text_input("reason", key="limit-reason")


def _set_limit() -> str:
    after = commands.set_risk_limits(sessions, actor, cfg.risk, {key: value}, limit_reason)
    return f"risk.{key} is now {getattr(after, key)}"


confirmed_action("limits", "Apply limit", f"Set risk.{key} = {value}?", _set_limit, admin)
