"""Ledger writes and reads for the exactly-once order path: submissions, outcomes, monotonic order updates."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradebot.domain import (
    ClientOrderId,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Protection,
    Side,
    Symbol,
    TimeInForce,
)
from tradebot.store.db import transaction
from tradebot.store.execution import OrderSubmissionRow
from tradebot.store.trading import OrderIntentRow, OrderRow

INTENT_PENDING, INTENT_SUBMITTING, INTENT_SENT = "pending", "submitting", "sent"
INTENT_BLOCKED, INTENT_REFUSED, INTENT_ABANDONED = "blocked", "refused", "abandoned"
SUB_SUBMITTING, SUB_RESOLVED, SUB_REFUSED, SUB_ABANDONED = "submitting", "resolved", "refused", "abandoned"

T = TypeVar("T")
WRITE_ATTEMPTS = 6

_RANK = {OrderStatus.PENDING: 0, OrderStatus.SUBMITTING: 0, OrderStatus.SUBMITTED: 1,
         OrderStatus.PARTIALLY_FILLED: 2}


def status_rank(status: OrderStatus) -> int:
    """Return how far along its life an order status is; terminal statuses rank highest."""
    return 3 if status.terminal else _RANK[status]


def may_move(current: OrderStatus, new: OrderStatus) -> bool:
    """Return True when an order in current may be updated to new (never back, never out of a terminal)."""
    if current.terminal:
        return False
    return status_rank(new) >= status_rank(current)


def write(sessions: sessionmaker[Session], fn: Callable[[Session], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """Run fn in its own transaction, again from the start if a concurrent writer got there first.

    The submitter and the event consumer may record the same order at once (an event can beat the
    submitter's answer); the loser's unique-key violation or lock timeout is retried on fresh reads.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction(sessions) as s:
                return fn(s)
        except (IntegrityError, OperationalError):
            if attempt == attempts:
                raise
            time.sleep(0.02 * attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class SubmissionStart:
    """Where a submission stands once its intent is committed: resolved already, or to be sent (resumed?)."""

    order: Order | None
    resumed: bool
    asset_class: str | None


def intent_payload(intent: OrderIntent) -> dict[str, Any]:
    """Return the intent as JSON-safe text fields (Decimals as strings, so nothing passes through a float)."""
    p = intent.protection
    return {
        "client_order_id": intent.client_order_id, "strategy": intent.strategy, "symbol": intent.symbol,
        "side": intent.side.value, "qty": str(intent.qty), "ts": intent.ts.isoformat(),
        "order_type": intent.order_type.value, "limit_price": _s(intent.limit_price),
        "time_in_force": intent.time_in_force.value, "reference_price": _s(intent.reference_price),
        "reason": intent.reason, "stop_price": _s(intent.stop_price), "trail_percent": _s(intent.trail_percent),
        "extended_hours": intent.extended_hours,
        "protection": None if p is None else {"stop_price": str(p.stop_price), "take_profit": _s(p.take_profit),
                                              "stop_limit_price": _s(p.stop_limit_price)},
    }


def intent_from_payload(d: dict[str, Any]) -> OrderIntent:
    """Rebuild the intent exactly as it was first submitted."""
    p = d.get("protection")
    return OrderIntent(
        client_order_id=ClientOrderId(d["client_order_id"]), strategy=d["strategy"], symbol=Symbol(d["symbol"]),
        side=Side(d["side"]), qty=Decimal(d["qty"]), ts=datetime.fromisoformat(d["ts"]),
        order_type=OrderType(d["order_type"]), limit_price=_d(d.get("limit_price")),
        time_in_force=TimeInForce(d.get("time_in_force", "day")), reference_price=_d(d.get("reference_price")),
        reason=d.get("reason", ""), stop_price=_d(d.get("stop_price")), trail_percent=_d(d.get("trail_percent")),
        extended_hours=bool(d.get("extended_hours", False)),
        protection=None if p is None else Protection(Decimal(p["stop_price"]), _d(p.get("take_profit")),
                                                     _d(p.get("stop_limit_price"))),
    )


def begin_submission(s: Session, run_id: str, broker: str, intent: OrderIntent, now: datetime) -> SubmissionStart:
    """Write (or find) the intent and its submission row and mark them `submitting`; nothing is sent yet."""
    cid = intent.client_order_id
    row = s.scalar(select(OrderIntentRow).where(OrderIntentRow.client_order_id == cid))
    if row is None:
        row = OrderIntentRow(
            client_order_id=cid, run_id=run_id, cycle_id=f"{run_id}:{intent.ts:%Y%m%dT%H%M}", signal_id=None,
            strategy=intent.strategy, symbol=intent.symbol, side=intent.side.value, qty=intent.qty,
            order_type=intent.order_type.value, limit_price=intent.limit_price,
            reference_price=intent.reference_price, reason=intent.reason, status=INTENT_PENDING, created_at=now)
        s.add(row)
        s.flush()
    elif row.run_id != run_id:
        raise ValueError(f"client order id {cid} belongs to run {row.run_id}, not {run_id}")
    if row.status == INTENT_BLOCKED:
        raise ValueError(f"intent {cid} was blocked by risk and must not be submitted")
    existing = find_order(s, cid)
    if row.status in (INTENT_SENT, INTENT_REFUSED, INTENT_ABANDONED) and existing is not None:
        return SubmissionStart(existing, resumed=False, asset_class=None)
    sub = s.get(OrderSubmissionRow, cid)
    resumed = sub is not None and sub.state == SUB_SUBMITTING
    if sub is None:
        s.add(OrderSubmissionRow(client_order_id=cid, run_id=run_id, broker=broker, intent=intent_payload(intent),
                                 state=SUB_SUBMITTING, attempts=0, lookups=0, last_error="", created_at=now,
                                 updated_at=now))
    elif sub.broker != broker:
        raise ValueError(f"intent {cid} is being submitted to {sub.broker}, not {broker}")
    row.status = INTENT_SUBMITTING
    from tradebot.store.market import InstrumentRow

    known = s.get(InstrumentRow, intent.symbol)
    return SubmissionStart(None, resumed=resumed, asset_class=known.asset_class if known else None)


def note_attempt(s: Session, client_order_id: str, now: datetime, *, attempts: int = 0, lookups: int = 0,
                 error: str = "") -> None:
    """Count network attempts and lookups made for a submission, with the last error seen."""
    sub = s.get(OrderSubmissionRow, client_order_id)
    if sub is not None:
        sub.attempts += attempts
        sub.lookups += lookups
        sub.last_error = error[:500] if error else sub.last_error
        sub.updated_at = now


def record_outcome(s: Session, run_id: str, broker: str, order: Order, now: datetime,
                   state: str = SUB_RESOLVED) -> None:
    """Record the broker's answer for a submission: the order row, the intent and the submission resolved."""
    upsert_order(s, run_id, broker, order, now)
    intent_status = {SUB_RESOLVED: INTENT_SENT, SUB_REFUSED: INTENT_REFUSED, SUB_ABANDONED: INTENT_ABANDONED}[state]
    row = s.scalar(select(OrderIntentRow).where(OrderIntentRow.client_order_id == order.client_order_id))
    if row is not None:
        row.status = intent_status
    sub = s.get(OrderSubmissionRow, order.client_order_id)
    if sub is not None:
        sub.state, sub.updated_at = state, now


def submitting(s: Session, run_id: str, broker: str) -> list[tuple[OrderIntent, datetime]]:
    """Return the intents left `submitting` at broker (a crash or unknown outcome), oldest first."""
    q = (select(OrderSubmissionRow).where(OrderSubmissionRow.run_id == run_id, OrderSubmissionRow.broker == broker,
                                          OrderSubmissionRow.state == SUB_SUBMITTING)
         .order_by(OrderSubmissionRow.created_at, OrderSubmissionRow.client_order_id))
    return [(intent_from_payload(r.intent), r.created_at) for r in s.scalars(q)]


def upsert_order(s: Session, run_id: str, broker: str, order: Order, now: datetime) -> None:
    """Insert or refresh an order row; its status only moves forward and a terminal status never moves back."""
    row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == order.client_order_id))
    if row is None:
        s.add(OrderRow(
            client_order_id=order.client_order_id, run_id=run_id, broker=broker,
            broker_order_id=order.broker_order_id, symbol=order.symbol, side=order.side.value, qty=order.qty,
            order_type=order.order_type.value, limit_price=order.limit_price, stop_price=order.stop_price,
            parent_client_order_id=order.parent_client_order_id, status=order.status.value,
            filled_qty=order.filled_qty, avg_fill_price=order.avg_fill_price, reject_reason=order.reject_reason,
            submitted_at=order.submitted_at, updated_at=now,
        ))
        s.flush()
        return
    if order.broker_order_id and not row.broker_order_id:
        row.broker_order_id = order.broker_order_id
    if not may_move(OrderStatus(row.status), order.status):
        return
    row.status, row.updated_at = order.status.value, now
    if order.filled_qty >= row.filled_qty:
        row.filled_qty, row.avg_fill_price = order.filled_qty, order.avg_fill_price or row.avg_fill_price
    row.reject_reason = order.reject_reason or row.reject_reason


def find_order(s: Session, client_order_id: str) -> Order | None:
    """Return the ledger's order for a client order id."""
    row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == client_order_id))
    return None if row is None else order_of(row)


def order_of(r: OrderRow) -> Order:
    """Return the domain order for an order row."""
    return Order(
        client_order_id=ClientOrderId(r.client_order_id), symbol=Symbol(r.symbol), side=Side(r.side), qty=r.qty,
        order_type=OrderType(r.order_type), status=OrderStatus(r.status), submitted_at=r.submitted_at,
        broker_order_id=r.broker_order_id, limit_price=r.limit_price, filled_qty=r.filled_qty,
        avg_fill_price=r.avg_fill_price, reject_reason=r.reject_reason, stop_price=r.stop_price,
        parent_client_order_id=ClientOrderId(r.parent_client_order_id) if r.parent_client_order_id else None,
        updated_at=r.updated_at,
    )


def _s(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _d(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)
