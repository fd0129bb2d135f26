"""Reconciliation's applying half: snapshot both sides, diff them, and converge the ledger to the broker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.adapters.ports import Broker
from tradebot.domain import ZERO, ClientOrderId, Fill, Order, OrderStatus, OrderType, Side, Symbol, make_client_order_id
from tradebot.errors import BrokerUnavailable
from tradebot.execution.config import ExecutionConfig
from tradebot.execution.events import refresh_filled
from tradebot.execution.reconcile import (
    BrokerView,
    Drift,
    DriftKind,
    LedgerView,
    diff_orders,
    diff_positions,
    orders_to_look_up,
)
from tradebot.execution.submitter import recover_submitting
from tradebot.store import ledger, orders
from tradebot.store.db import transaction
from tradebot.store.execution import OrderSubmissionRow
from tradebot.store.trading import FillRow, OrderIntentRow, OrderRow

log = logging.getLogger(__name__)
EXTERNAL, RECONCILE = "external", "reconcile"


@dataclass(frozen=True)
class ReconcileReport:
    """What one reconciliation at one broker found and did."""

    broker: str
    drift: tuple[Drift, ...] = ()
    recovered: int = 0  # intents left submitting that a lookup resolved
    fixed: int = 0  # drift items the ledger converged on
    ignored: int = 0  # drift items left as they are by policy (outside positions and orders under "ignore")
    unresolved: int = 0  # lookups that failed (broker unavailable): the next run retries them
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, object]:
        """Return counts by drift kind plus what was fixed, ignored and left unresolved."""
        kinds: dict[str, int] = {}
        for d in self.drift:
            kinds[d.kind.value] = kinds.get(d.kind.value, 0) + 1
        return {"broker": self.broker, "drift": len(self.drift), "by_kind": kinds, "recovered": self.recovered,
                "fixed": self.fixed, "ignored": self.ignored, "unresolved": self.unresolved}


def reconcile_broker(sessions: sessionmaker[Session], run_id: str, broker: Broker, now: datetime,
                     config: ExecutionConfig | None = None, *, enforce_hours: bool | None = None) -> ReconcileReport:
    """Resolve stuck submissions, then converge orders, fills and positions at broker; return the drift found."""
    cfg = config or ExecutionConfig()
    recovered = recover_submitting(sessions, run_id, broker, now, config=cfg, enforce_hours=enforce_hours)
    since = now - timedelta(hours=cfg.reconcile_window_hours)
    broker_open, fills = list(broker.open_orders()), list(broker.fills_since(since))
    with sessions() as s:
        view = _ledger_view(s, run_id, broker.name, [f.fill_id for f in fills], [f.client_order_id for f in fills])
    lookups: dict[str, Order | None] = {}
    unresolved = 0
    for cid in orders_to_look_up(view, broker_open):
        try:
            lookups[cid] = broker.get_order(ClientOrderId(cid))
        except BrokerUnavailable:
            unresolved += 1
    items = diff_orders(view, BrokerView(broker_open, fills, (), lookups))
    fixed = ignored = 0
    by_id = {o.client_order_id: o for o in broker_open} | {k: v for k, v in lookups.items() if v is not None}
    with transaction(sessions) as s:
        for d in items:
            done = _fix_order_drift(s, run_id, broker, d, by_id, fills, cfg, now)
            fixed += done
            ignored += not done
        ledger.rebuild_positions(s, run_id, now)
    positions = list(broker.positions())
    with sessions() as s:
        mine = _ledger_positions(s, run_id, broker.name)
    pos_items = diff_positions(mine, positions)
    if pos_items:
        avg: dict[str, Decimal] = {p.symbol: p.avg_price for p in positions}
        with transaction(sessions) as s:
            for d in pos_items:
                if cfg.outside_positions == "adopt":
                    _adjust(s, run_id, broker.name, d, avg.get(d.symbol, ZERO), now)
                    fixed += 1
                else:
                    ignored += 1
            ledger.rebuild_positions(s, run_id, now)
    report = ReconcileReport(broker.name, tuple(items + pos_items), len(recovered), fixed, ignored, unresolved)
    if report.drift:
        log.warning("reconciliation at %s: %s", broker.name, report.summary())
    return report


def _ledger_view(s: Session, run_id: str, broker: str, fill_ids: list[str], fill_cids: list[str]) -> LedgerView:
    rows = s.scalars(select(OrderRow).where(OrderRow.run_id == run_id, OrderRow.broker == broker,
                                            OrderRow.status.not_in(ledger.TERMINAL_STATUSES)))
    held = set(s.scalars(select(FillRow.fill_id).where(FillRow.fill_id.in_(fill_ids)))) if fill_ids else set()
    filled: dict[str, Decimal] = {}
    if fill_cids:
        for cid, qty in s.execute(select(FillRow.client_order_id, FillRow.qty)
                                  .where(FillRow.client_order_id.in_(sorted(set(fill_cids))))):
            filled[cid] = filled.get(cid, ZERO) + qty
    return LedgerView({r.client_order_id: orders.order_of(r) for r in rows}, frozenset(held),
                      _ledger_positions(s, run_id, broker), filled)


def _ledger_positions(s: Session, run_id: str, broker: str) -> dict[str, Decimal]:
    """Return net quantity per symbol from this run's fills on orders placed at broker."""
    q = (select(FillRow.symbol, FillRow.side, FillRow.qty).join(OrderRow, OrderRow.client_order_id ==
                                                                FillRow.client_order_id)
         .where(FillRow.run_id == run_id, OrderRow.broker == broker))
    net: dict[str, Decimal] = {}
    for sym, side, qty in s.execute(q):
        net[sym] = net.get(sym, ZERO) + (qty if side == Side.BUY.value else -qty)
    return {k: v for k, v in net.items() if v != ZERO}


def _fix_order_drift(s: Session, run_id: str, broker: Broker, d: Drift, by_id: dict[str, Order],
                     fills: list[Fill], cfg: ExecutionConfig, now: datetime) -> bool:
    if d.kind is DriftKind.ORDER_STATUS:
        orders.upsert_order(s, run_id, broker.name, by_id[d.client_order_id], now)
        return True
    if d.kind is DriftKind.MISSING_ORDER:
        mine = orders.find_order(s, d.client_order_id)
        if mine is None:
            return False
        gone = replace(mine, status=OrderStatus.CANCELED,
                       reject_reason="not found at the broker during reconciliation")
        orders.upsert_order(s, run_id, broker.name, gone, now)
        return True
    if d.kind is DriftKind.UNKNOWN_ORDER:
        row = _ensure_order(s, run_id, broker, d.client_order_id, by_id, cfg, now)
        # A ledger order already terminal cannot move back to working: that one stays an alert for a human.
        return row is not None and not OrderStatus(row.status).terminal
    # A missing fill: the order it belongs to must be in the ledger first.
    f = next(f for f in fills if f.fill_id == d.ref)
    row = _ensure_order(s, run_id, broker, f.client_order_id, by_id, cfg, now)
    if row is None:
        return False
    if s.get(FillRow, f.fill_id) is not None:
        return True
    s.add(FillRow(fill_id=f.fill_id, client_order_id=row.client_order_id, run_id=run_id, symbol=f.symbol,
                  side=f.side.value, qty=f.qty, price=f.price, commission=f.commission, ts=f.ts))
    s.flush()
    refresh_filled(s, row)
    return True


def _ensure_order(s: Session, run_id: str, broker: Broker, cid: str, by_id: dict[str, Order],
                  cfg: ExecutionConfig, now: datetime) -> OrderRow | None:
    """Return the ledger's order row for cid, recording it from the broker when it is ours or adopted."""
    row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == cid))
    if row is not None:
        return row if row.run_id == run_id else None
    order = by_id.get(cid)
    if order is None:
        try:
            order = broker.get_order(ClientOrderId(cid))
        except BrokerUnavailable:
            return None
    if order is None:
        return None
    sub = s.get(OrderSubmissionRow, cid)
    if sub is not None and sub.run_id == run_id:
        orders.record_outcome(s, run_id, broker.name, order, now)
    elif cfg.outside_positions == "adopt":
        _intent_row(s, run_id, cid, EXTERNAL, order.symbol, order.side, order.qty, order.order_type,
                    "placed outside the bot; adopted by reconciliation", now)
        orders.upsert_order(s, run_id, broker.name, order, now)
    else:
        return None
    return s.scalar(select(OrderRow).where(OrderRow.client_order_id == cid))


def _adjust(s: Session, run_id: str, broker: str, d: Drift, price: Decimal, now: datetime) -> None:
    """Book the difference as a filled adjustment order at the broker's average price, so fills explain it."""
    diff = d.broker_qty - d.ledger_qty
    side = Side.BUY if diff > 0 else Side.SELL
    cid = make_client_order_id(RECONCILE, d.symbol, f"{run_id}:{now.isoformat()}", "adjust")
    why = f"reconciliation adjustment: {d.detail}"
    _intent_row(s, run_id, cid, RECONCILE, Symbol(d.symbol), side, abs(diff), OrderType.MARKET, why, now)
    orders.upsert_order(s, run_id, broker, Order(
        client_order_id=cid, symbol=Symbol(d.symbol), side=side, qty=abs(diff), order_type=OrderType.MARKET,
        status=OrderStatus.FILLED, submitted_at=now, filled_qty=abs(diff), avg_fill_price=price,
        reject_reason=why), now)
    s.add(FillRow(fill_id=f"adj-{cid}", client_order_id=cid, run_id=run_id, symbol=d.symbol, side=side.value,
                  qty=abs(diff), price=price, commission=ZERO, ts=now))
    s.flush()


def _intent_row(s: Session, run_id: str, cid: str, strategy: str, symbol: str, side: Side, qty: Decimal,
                order_type: OrderType, reason: str, now: datetime) -> None:
    s.add(OrderIntentRow(client_order_id=cid, run_id=run_id, cycle_id=f"{run_id}:{strategy}:{now:%Y%m%dT%H%M%S}",
                         signal_id=None, strategy=strategy, symbol=symbol, side=side.value, qty=qty,
                         order_type=order_type.value, limit_price=None, reference_price=None, reason=reason,
                         status=orders.INTENT_SENT, created_at=now))
    s.flush()

