"""Flow `reconcile_positions`: converge the ledger to the broker (startup, every 15 min, tradebot.order.unknown)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.alerting import send_alerts
from tasks.execution import drift_alerts, reconcile
from tasks.runtime import build_runtime
from tradebot.config import load_settings


@flow(name="reconcile_positions", log_prints=True, **FAILURE_HOOKS)
def reconcile_positions(config_path: str | None = None, run_id: str | None = None, now: datetime | None = None,
                        overrides: dict | None = None) -> dict:
    """Resolve stuck submissions, pull positions, open orders and recent fills, fix drift, alert on each item."""
    settings = load_settings(config_path, **(overrides or {}))
    now = now or datetime.now(UTC)
    rt = build_runtime(settings, run_id or settings.paper.account, "paper", now)
    with rt.alerts:  # closes de-duplication windows so "(xN)" summaries go out
        result = reconcile(rt, now)
        events = drift_alerts(result)
        if events:
            send_alerts(rt, events)
    print(f"reconciled {rt.run_id} at {result['broker']}: {result['drift']} drift item(s) {result['by_kind']}, "
          f"fixed {result['fixed']}, ignored {result['ignored']}, recovered {result['recovered']}")
    return {**result, "run_id": rt.run_id, "alerts": len(events)}
