"""Execution tasks: reconcile the ledger with the broker and turn its drift into alerts."""

from __future__ import annotations

from datetime import datetime

from tasks.common import io_task
from tasks.runtime import Runtime
from tradebot.alerts import ReconciliationDrift


@io_task(name="reconcile-broker", retries=1)
def reconcile(rt: Runtime, now: datetime) -> dict:
    """Converge orders, fills and positions to the broker; return the report's summary and its drift items."""
    from tradebot.execution.converge import reconcile_broker

    report = reconcile_broker(rt.sessions, rt.run_id, rt.broker, now, rt.settings.execution)
    items = [{"kind": d.kind.value, "symbol": d.symbol, "client_order_id": d.client_order_id,
              "ledger_qty": str(d.ledger_qty), "broker_qty": str(d.broker_qty), "detail": d.detail}
             for d in report.drift]
    return {**report.summary(), "items": items, "policy": rt.settings.execution.outside_positions}


def drift_alerts(result: dict) -> list[ReconciliationDrift]:
    """Return one alert per drift item, naming what differed and what reconciliation did about it."""
    from decimal import Decimal

    policy = result.get("policy", "ignore")
    alerts = []
    for d in result["items"]:
        outside = d["kind"] in ("unknown_position", "position_mismatch", "unknown_order")
        action = f"policy {policy}: {'adopted' if policy == 'adopt' else 'left as is'}" if outside else "ledger fixed"
        alerts.append(ReconciliationDrift(symbol=d["symbol"], ledger_qty=Decimal(d["ledger_qty"]),
                                          broker_qty=Decimal(d["broker_qty"]),
                                          detail=f"{d['kind']}: {d['detail']} ({action})"))
    return alerts
