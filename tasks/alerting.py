"""Alert events from what the pipeline saw, and the one task that hands them to the router."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from risk import RiskResult, RiskState, StopLevels
from tasks.common import io_task
from tasks.runtime import Runtime
from tradebot.alerts import DailyLimitHit, DailyReport, DataQualityFailure, OrderRejected, StopTriggered
from tradebot.domain import Order, OrderStatus, Symbol

STOP_LEGS = ("stop_loss", "trailing_stop")


def gate_alerts(summary: Mapping) -> list:
    """Return a data-quality alert when the gate refused rows or failed a batch expectation."""
    if summary.get("success", True):
        return []
    failed = summary.get("failed", {})
    return [DataQualityFailure(dataset=str(summary.get("kind", "data")), batch=str(summary.get("batch", "")),
                               failed=tuple(sorted(failed)), unexpected_count=int(summary.get("quarantined", 0)))]


def rejection_alerts(orders: Sequence[Order]) -> list:
    """Return an alert per order the broker rejected, with the broker's message."""
    return [OrderRejected(symbol=o.symbol, side=o.side.value, qty=o.qty, reason=o.reject_reason or "rejected",
                          client_order_id=o.client_order_id) for o in orders if o.status is OrderStatus.REJECTED]


def risk_alerts(before: RiskState, result: RiskResult, stops_before: Mapping[Symbol, StopLevels],
                prices: Mapping[Symbol, Decimal]) -> list:
    """Return alerts for stops hit this cycle and for a daily limit that has just halted entries."""
    events: list = []
    for p in result.exits:
        tags = p.target.signals[0].tags if p.target.signals else ()
        levels = stops_before.get(p.intent.symbol)
        if levels is not None and any(leg in tags for leg in STOP_LEGS):
            events.append(StopTriggered(symbol=p.intent.symbol, stop_price=levels.stop,
                                        last_price=prices.get(p.intent.symbol, levels.stop), qty=p.intent.qty))
    if result.state.halted and not before.halted:
        start = result.state.session_start_equity or Decimal(0)
        events.append(DailyLimitHit(limit="max_daily_loss", value=f"equity {result.equity:.2f}",
                                    threshold=f"session start {start:.2f}: {result.state.halt_reason}"))
    return events


def report_alert(day: date, summary: Mapping) -> DailyReport:
    """Return the end-of-run report alert."""
    return DailyReport(day=day, equity=Decimal(summary["final_equity"]), pnl=Decimal(summary["pnl"]),
                       orders=int(summary["orders"]), fills=int(summary["fills"]), notes=f"run {summary['run_id']}")


@io_task(name="send-alerts", retries=0)
def send_alerts(rt: Runtime, events: list) -> dict[str, int]:
    """Route alerts (de-duplicated, rate limited, recorded); delivery problems never fail the flow."""
    statuses: dict[str, int] = {}
    for event in events:
        status = rt.alerts.send(event).status
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def switch_alerts(switches: Sequence) -> list:
    """Return an alert per price-feed switch (failover to the backup, or back to the primary)."""
    from tradebot.alerts import FeedStale, Severity

    return [FeedStale(feed=sw.from_feed, stale_seconds=0.0, threshold_seconds=0.0, last_update=sw.at.isoformat(),
                      severity=Severity.INFO if sw.reason == "recovered" else Severity.WARNING)
            for sw in switches]
