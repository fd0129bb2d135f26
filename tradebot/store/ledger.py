"""Writes and reads of the trading ledger: runs, signals, intents, decisions, orders, fills, equity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradebot.domain import (
    ZERO,
    ClientOrderId,
    Fill,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Portfolio,
    Position,
    Protection,
    RiskDecision,
    Side,
    Signal,
    Symbol,
)
from tradebot.store import orders
from tradebot.store.trading import (
    DailyPnlRow,
    EquitySnapshotRow,
    FillRow,
    OrderIntentRow,
    OrderRow,
    PositionRow,
    RiskDecisionRow,
    RunRow,
    SignalNewsRow,
    SignalRow,
)
from tradebot.store.upsert import upsert

# Stored status values of orders that can no longer change at the broker.
TERMINAL_STATUSES = tuple(st.value for st in OrderStatus if st.terminal)

INTENT_PENDING, INTENT_SENT, INTENT_BLOCKED = orders.INTENT_PENDING, orders.INTENT_SENT, orders.INTENT_BLOCKED
INTENT_SUBMITTING, INTENT_REFUSED = orders.INTENT_SUBMITTING, orders.INTENT_REFUSED


def ensure_run(s: Session, run_id: str, kind: str, mode: str, initial_cash: Decimal, now: datetime,
               params: Mapping[str, Any] | None = None) -> RunRow:
    """Return the run, creating it on first use."""
    run = s.get(RunRow, run_id)
    if run is None:
        run = RunRow(run_id=run_id, kind=kind, mode=mode, status="running", initial_cash=initial_cash,
                     started_at=now, params=dict(params or {}))
        s.add(run)
        s.flush()
    return run


def finish_run(s: Session, run_id: str, status: str, now: datetime) -> None:
    """Mark a run finished with its final status."""
    run = s.get(RunRow, run_id)
    if run is not None:
        run.status, run.finished_at = status, now


def record_signals(s: Session, run_id: str, cycle_id: str, signals: Sequence[Signal]) -> dict[tuple[str, str], int]:
    """Store signals with their news links; return ids keyed by (strategy, symbol)."""
    ids: dict[tuple[str, str], int] = {}
    for sig in signals:
        row = SignalRow(run_id=run_id, cycle_id=cycle_id, strategy=sig.strategy, symbol=sig.symbol, ts=sig.ts,
                        direction=sig.direction.value, strength=sig.strength, confidence=sig.confidence,
                        horizon_days=sig.horizon_days, reasons=list(sig.reasons), bar_ts=sig.bar_ts)
        s.add(row)
        s.flush()
        ids[(sig.strategy, sig.symbol)] = row.id
        upsert(s, SignalNewsRow.__table__, [{"signal_id": row.id, "news_id": n} for n in sig.news_ids],
               ["signal_id", "news_id"])
    return ids


def record_proposal(s: Session, run_id: str, cycle_id: str, intent: OrderIntent, decision: RiskDecision,
                    signal_id: int | None, now: datetime) -> bool:
    """Store an intent and its risk decision once; return False if this client id was already recorded."""
    if s.scalar(select(OrderIntentRow.id).where(OrderIntentRow.client_order_id == intent.client_order_id)):
        return False
    s.add(OrderIntentRow(
        client_order_id=intent.client_order_id, run_id=run_id, cycle_id=cycle_id, signal_id=signal_id,
        strategy=intent.strategy, symbol=intent.symbol, side=intent.side.value, qty=intent.qty,
        order_type=intent.order_type.value, limit_price=intent.limit_price, reference_price=intent.reference_price,
        reason=intent.reason, status=INTENT_PENDING if decision.approved else INTENT_BLOCKED, created_at=now,
        stop_price=intent.stop_price, trail_percent=intent.trail_percent,
        protect_stop=intent.protection.stop_price if intent.protection else None,
        protect_take_profit=intent.protection.take_profit if intent.protection else None,
    ))
    s.flush()
    s.add(RiskDecisionRow(client_order_id=intent.client_order_id, verdict=decision.verdict.value,
                          requested_qty=decision.requested_qty, approved_qty=decision.approved_qty,
                          reasons=list(decision.reasons), decided_at=now))
    return True


def pending_intents(s: Session, run_id: str) -> list[OrderIntent]:
    """Return approved intents not yet confirmed sent, sized at their approved quantity (oldest first)."""
    q = (select(OrderIntentRow, RiskDecisionRow.approved_qty)
         .join(RiskDecisionRow, RiskDecisionRow.client_order_id == OrderIntentRow.client_order_id)
         .where(OrderIntentRow.run_id == run_id, OrderIntentRow.status == INTENT_PENDING)
         .order_by(OrderIntentRow.id))
    return [OrderIntent(
        client_order_id=ClientOrderId(r.client_order_id), strategy=r.strategy, symbol=Symbol(r.symbol),
        side=Side(r.side), qty=approved, ts=r.created_at, order_type=OrderType(r.order_type),
        limit_price=r.limit_price, reference_price=r.reference_price, reason=r.reason, stop_price=r.stop_price,
        trail_percent=r.trail_percent,
        protection=Protection(r.protect_stop, r.protect_take_profit) if r.protect_stop is not None else None,
    ) for r, approved in s.execute(q)]


def mark_intent_sent(s: Session, client_order_id: str) -> None:
    """Record that the broker has the order for this intent."""
    row = s.scalar(select(OrderIntentRow).where(OrderIntentRow.client_order_id == client_order_id))
    if row is not None:
        row.status = INTENT_SENT


def upsert_order(s: Session, run_id: str, broker: str, order: Order, now: datetime) -> None:
    """Insert or refresh an order row; its status only moves forward and a terminal status never moves back."""
    orders.upsert_order(s, run_id, broker, order, now)


def open_orders(s: Session, run_id: str) -> list[str]:
    """Return client ids of this run's orders not yet in a terminal status."""
    q = select(OrderRow.client_order_id).where(OrderRow.run_id == run_id, OrderRow.status.not_in(TERMINAL_STATUSES))
    return list(s.scalars(q))


def record_fills(s: Session, run_id: str, fills: Sequence[Fill]) -> int:
    """Store fills keyed by fill id (a replayed fill is ignored); return how many were new."""
    known = set(s.scalars(select(FillRow.fill_id).where(FillRow.fill_id.in_([f.fill_id for f in fills]))))
    new = [f for f in fills if f.fill_id not in known]
    for f in new:
        s.add(FillRow(fill_id=f.fill_id, client_order_id=f.client_order_id, run_id=run_id, symbol=f.symbol,
                      side=f.side.value, qty=f.qty, price=f.price, commission=f.commission, ts=f.ts))
    s.flush()
    return len(new)


def rebuild_positions(s: Session, run_id: str, now: datetime) -> dict[Symbol, Position]:
    """Recompute positions from this run's fills (the fills are the truth) and store them."""
    fills = s.scalars(select(FillRow).where(FillRow.run_id == run_id).order_by(FillRow.ts, FillRow.fill_id))
    book: dict[str, dict[str, Any]] = {}
    for f in fills:
        p = book.setdefault(f.symbol, {"qty": ZERO, "avg": ZERO, "realized": ZERO, "opened": f.ts})
        signed = f.qty if f.side == Side.BUY.value else -f.qty
        if p["qty"] == ZERO:
            p["opened"] = f.ts
        if p["qty"] == ZERO or (p["qty"] > 0) == (signed > 0):
            p["avg"] = (p["qty"] * p["avg"] + signed * f.price) / (p["qty"] + signed)
        else:
            closed = min(abs(signed), abs(p["qty"]))
            direction = 1 if p["qty"] > 0 else -1
            p["realized"] += closed * (f.price - p["avg"]) * direction
            if abs(signed) > abs(p["qty"]):
                p["avg"] = f.price
        p["realized"] -= f.commission
        p["qty"] += signed
        if p["qty"] == ZERO:
            p["avg"] = ZERO
    rows = [{"run_id": run_id, "symbol": sym, "qty": p["qty"], "avg_price": p["avg"].quantize(Decimal("0.000001")),
             "realized_pnl": p["realized"].quantize(Decimal("0.01")),
             "opened_at": p["opened"] if p["qty"] != ZERO else None, "updated_at": now} for sym, p in book.items()]
    upsert(s, PositionRow.__table__, rows, ["run_id", "symbol"],
           ["qty", "avg_price", "realized_pnl", "opened_at", "updated_at"])
    return {Symbol(r["symbol"]): Position(Symbol(r["symbol"]), r["qty"], r["avg_price"]) for r in rows
            if r["qty"] != ZERO}


def portfolio(s: Session, run_id: str) -> Portfolio:
    """Return the run's cash (initial cash plus every fill's cash effect) and open positions."""
    run = s.get(RunRow, run_id)
    if run is None:
        raise KeyError(f"no run {run_id!r} in the ledger")
    cash = run.initial_cash
    for f in s.scalars(select(FillRow).where(FillRow.run_id == run_id)):
        signed = f.qty if f.side == Side.BUY.value else -f.qty
        cash += -signed * f.price - f.commission
    positions = {Symbol(p.symbol): Position(Symbol(p.symbol), p.qty, p.avg_price)
                 for p in s.scalars(select(PositionRow).where(PositionRow.run_id == run_id)) if p.qty != ZERO}
    return Portfolio(cash=cash, positions=positions)


def snapshot_equity(s: Session, run_id: str, ts: datetime, marks: Mapping[Symbol, Decimal]) -> EquitySnapshotRow:
    """Store cash, marked position value and equity at ts (idempotent per run and ts)."""
    pf = portfolio(s, run_id)
    value = sum((p.qty * marks.get(sym, p.avg_price) for sym, p in pf.positions.items()), ZERO)
    value = value.quantize(Decimal("0.01"))
    cash = pf.cash.quantize(Decimal("0.01"))
    upsert(s, EquitySnapshotRow.__table__, [{"run_id": run_id, "ts": ts, "cash": cash, "positions_value": value,
                                             "equity": cash + value}], ["run_id", "ts"],
           ["cash", "positions_value", "equity"])
    return EquitySnapshotRow(run_id=run_id, ts=ts, cash=cash, positions_value=value, equity=cash + value)


def record_daily_pnl(s: Session, run_id: str, day: date, start_equity: Decimal, end_equity: Decimal) -> None:
    """Store the day's PnL for the run."""
    upsert(s, DailyPnlRow.__table__, [{"run_id": run_id, "day": day, "start_equity": start_equity,
                                       "end_equity": end_equity, "pnl": end_equity - start_equity}],
           ["run_id", "day"], ["end_equity", "pnl"])
