"""Flow `trade_cycle`: fills, sentiment, signals, risk, orders and marking, for one point in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.alerting import rejection_alerts, send_alerts
from tasks.artifacts import publish_cycle_artifacts
from tasks.runtime import Runtime, build_runtime
from tasks.sentiment import score_sentiment
from tasks.trading import (
    check_risk,
    compute_signals,
    fill_paper_orders,
    mark_to_market,
    submit_orders,
    sync_broker,
)
from tradebot.config import load_settings


def cycle_steps(rt: Runtime, since: datetime, now: datetime, artifacts: bool = True) -> dict:
    """Run one cycle's tasks at now; bars in [since, now) are the new prices orders may fill at."""
    cycle_id = f"{rt.run_id}:{now.strftime('%Y%m%dT%H%M')}"
    fills = fill_paper_orders(rt, since, now)
    _, rejected_at_fill = sync_broker(rt, now)
    scored = score_sentiment(rt, now)
    signals, signal_ids = compute_signals(rt, now, cycle_id)
    risk, risk_events = check_risk(rt, signals, signal_ids, now, cycle_id, since)
    submitted, rejected_at_submit = submit_orders(rt, now)
    equity = mark_to_market(rt, now)
    events = [*risk_events, *rejection_alerts([*rejected_at_fill, *rejected_at_submit])]
    if events:
        send_alerts(rt, events)
    if artifacts:
        publish_cycle_artifacts(cycle_id, signals, risk.all_proposals, equity, fills)
    return {"cycle_id": cycle_id, "fills": fills, "scored": scored, "signals": len(signals),
            "intents": len(risk.all_proposals), "exits": len(risk.exits), "submitted": submitted,
            "halted": risk.state.halted, **equity}


@flow(name="trade_cycle", log_prints=True, **FAILURE_HOOKS)
def trade_cycle(config_path: str | None = None, now: datetime | None = None, lookback_minutes: int = 1440,
                overrides: dict | None = None) -> dict:
    """Run one trade cycle on the standing paper account."""
    settings = load_settings(config_path, **(overrides or {}))
    now = now or datetime.now(UTC)
    rt = build_runtime(settings, settings.paper.account, "paper", now)
    with rt.alerts:  # closes de-duplication windows so "(xN)" summaries go out
        return cycle_steps(rt, now - timedelta(minutes=lookback_minutes), now)
