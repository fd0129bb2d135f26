"""Execution tasks: recover stuck submissions, apply broker order events, reconcile the ledger with the broker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tasks.common import io_task
from tasks.runtime import Runtime
from tradebot.alerts import ReconciliationDrift
from tradebot.domain import Order, OrderEvent


@io_task(name="recover-orders")
def recover_orders(rt: Runtime, now: datetime) -> list[Order]:
    """Resolve intents left `submitting` (by a crash or an unknown outcome) by looking them up at the broker."""
    from tradebot.execution.submitter import recover_submitting

    return recover_submitting(rt.sessions, rt.run_id, rt.broker, now, config=rt.settings.execution)


@io_task(name="apply-order-events", retries=0)
def apply_events(rt: Runtime, events: Sequence[OrderEvent], now: datetime) -> dict[str, int]:
    """Apply a batch of order events once each; an event about an unknown order starts reconciliation."""
    from tradebot.execution.events import apply_order_events
    from tradebot.prefect_events import order_unknown

    done = apply_order_events(rt.sessions, rt.run_id, rt.broker.name, events, now)
    for ev in done.unknown:
        symbol = ev.fill.symbol if ev.fill else ""
        order_unknown(ev.client_order_id, symbol, rt.run_id, f"{rt.broker.name} event {ev.event_id} "
                      f"({ev.status.value}) for an order the ledger does not know")
    return {"applied": done.applied, "duplicates": done.duplicates, "stale": done.stale,
            "new_fills": done.new_fills, "unknown": len(done.unknown)}


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
