"""Apply broker order events to the ledger: each event once, statuses only forward, each fill once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.domain import ZERO, Order, OrderEvent, OrderStatus
from tradebot.store import ledger, orders
from tradebot.store.execution import OrderEventRow, OrderSubmissionRow
from tradebot.store.trading import FillRow, OrderRow

APPLIED, STALE, UNKNOWN = "applied", "stale", "unknown"


@dataclass(frozen=True)
class EventsApplied:
    """What one batch of events did to the ledger."""

    applied: int = 0
    duplicates: int = 0
    stale: int = 0  # arrived after a later status (out of order): the status is kept, any fill still counts
    new_fills: int = 0
    unknown: tuple[OrderEvent, ...] = ()  # about orders the ledger has never seen: reconciliation's job


def apply_order_events(sessions: sessionmaker[Session], run_id: str, broker: str, events: Sequence[OrderEvent],
                       now: datetime) -> EventsApplied:
    """Apply a batch of order events in one transaction, de-duplicated by event id; rebuild positions on new fills."""
    # A concurrent writer (the submitter recording the same order) makes the batch start again on fresh reads.
    return orders.write(sessions, lambda s: _apply(s, run_id, broker, events, now))


def _apply(s: Session, run_id: str, broker: str, events: Sequence[OrderEvent], now: datetime) -> EventsApplied:
    ids = [e.event_id for e in events]
    seen = set(s.scalars(select(OrderEventRow.event_id).where(OrderEventRow.event_id.in_(ids)))) if ids else set()
    applied = duplicates = stale = new_fills = 0
    unknown: list[OrderEvent] = []
    for ev in events:
        if ev.event_id in seen:
            duplicates += 1
            continue
        seen.add(ev.event_id)
        outcome, fill_added = _apply_one(s, run_id, broker, ev, now)
        new_fills += fill_added
        applied += outcome == APPLIED
        stale += outcome == STALE
        if outcome == UNKNOWN:
            unknown.append(ev)
        s.add(OrderEventRow(event_id=ev.event_id, broker=broker, client_order_id=ev.client_order_id,
                            broker_order_id=ev.broker_order_id, status=ev.status.value, ts=ev.ts,
                            fill_id=ev.fill.fill_id if ev.fill else None, outcome=outcome, received_at=now))
    if new_fills:
        ledger.rebuild_positions(s, run_id, now)
    return EventsApplied(applied, duplicates, stale, new_fills, tuple(unknown))


def _apply_one(s: Session, run_id: str, broker: str, ev: OrderEvent, now: datetime) -> tuple[str, int]:
    row = _order_row(s, run_id, broker, ev, now)
    if row is None:
        return UNKNOWN, 0
    fill_added = 0
    if ev.fill is not None and s.get(FillRow, ev.fill.fill_id) is None:
        f = ev.fill
        s.add(FillRow(fill_id=f.fill_id, client_order_id=row.client_order_id, run_id=row.run_id, symbol=f.symbol,
                      side=f.side.value, qty=f.qty, price=f.price, commission=f.commission, ts=f.ts))
        s.flush()
        fill_added = 1
        refresh_filled(s, row)
    if ev.broker_order_id and not row.broker_order_id:
        row.broker_order_id = ev.broker_order_id
    if row.last_event_ts is None or ev.ts > row.last_event_ts:
        row.last_event_ts = ev.ts
    current = OrderStatus(row.status)
    if ev.status is current or not orders.may_move(current, ev.status):
        return (APPLIED if fill_added else STALE), fill_added
    row.status, row.updated_at = ev.status.value, now
    return APPLIED, fill_added


def refresh_filled(s: Session, row: OrderRow) -> None:
    """Set an order's filled quantity and average price from its recorded fills (the fills are the truth)."""
    fills = s.execute(select(FillRow.qty, FillRow.price).where(FillRow.client_order_id == row.client_order_id)).all()
    total = sum((q for q, _ in fills), ZERO)
    if total > row.filled_qty or (total == row.filled_qty and total > ZERO):
        row.filled_qty = total
        row.avg_fill_price = (sum((q * p for q, p in fills), ZERO) / total).quantize(Decimal("0.000001"))


def _order_row(s: Session, run_id: str, broker: str, ev: OrderEvent, now: datetime) -> OrderRow | None:
    row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == ev.client_order_id))
    if row is None and ev.broker_order_id:
        row = s.scalar(select(OrderRow).where(OrderRow.broker_order_id == ev.broker_order_id,
                                              OrderRow.broker == broker))
    if row is not None:
        return row if row.run_id == run_id else None
    sub = s.get(OrderSubmissionRow, ev.client_order_id)
    if sub is None or sub.run_id != run_id or sub.broker != broker:
        return None
    # The event beat the submitter's answer (or the submitter died waiting): it proves the broker has the order.
    intent = orders.intent_from_payload(sub.intent)
    order = Order(client_order_id=intent.client_order_id, symbol=intent.symbol, side=intent.side, qty=intent.qty,
                  order_type=intent.order_type, status=OrderStatus.SUBMITTED, submitted_at=ev.ts,
                  broker_order_id=ev.broker_order_id, limit_price=intent.limit_price, stop_price=intent.stop_price)
    orders.record_outcome(s, run_id, broker, order, now)
    return s.scalar(select(OrderRow).where(OrderRow.client_order_id == ev.client_order_id))
