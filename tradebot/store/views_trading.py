"""Trading read views: an order's provenance, positions with stops and marks, exposure, per-strategy trades."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradebot.store.controls import PositionStopRow
from tradebot.store.ledger import TERMINAL_STATUSES
from tradebot.store.market import BarRow, InstrumentRow, NewsItemRow, SentimentScoreRow
from tradebot.store.risk_state import closed_trade_returns
from tradebot.store.trading import (
    FillRow,
    OrderIntentRow,
    OrderRow,
    PositionRow,
    RiskDecisionRow,
    SignalNewsRow,
    SignalRow,
)
from tradebot.store.views import _frame

PROTECTIVE_TYPES = ("stop", "stop_limit", "trailing_stop")


def provenance(s: Session, client_order_id: str, news_limit: int = 50) -> dict[str, Any]:
    """Return everything behind one order: intent, risk decision, the cycle's signals on its symbol, their news."""
    intent = s.scalar(select(OrderIntentRow).where(OrderIntentRow.client_order_id == client_order_id))
    if intent is None:
        return {}
    decision = s.scalar(select(RiskDecisionRow).where(RiskDecisionRow.client_order_id == client_order_id))
    order = s.scalar(select(OrderRow).where(OrderRow.client_order_id == client_order_id))
    # Every strategy's signal on this symbol in the cycle fed the combined target, not only the linked one.
    sig_q = (select(SignalRow.id, SignalRow.strategy, SignalRow.direction, SignalRow.strength, SignalRow.confidence,
                    SignalRow.horizon_days, SignalRow.reasons, SignalRow.ts)
             .where(SignalRow.cycle_id == intent.cycle_id, SignalRow.symbol == intent.symbol).limit(50))
    signals = _frame(s, sig_q, ["signal_id", "strategy", "direction", "strength", "confidence", "horizon_days",
                                "reasons", "ts"])
    news_q = (select(NewsItemRow.published_at, NewsItemRow.headline, SentimentScoreRow.compound,
                     SentimentScoreRow.label, NewsItemRow.source, NewsItemRow.url, SignalNewsRow.signal_id)
              .join(SignalNewsRow, SignalNewsRow.news_id == NewsItemRow.id)
              .outerjoin(SentimentScoreRow, SentimentScoreRow.news_id == NewsItemRow.id)
              .where(SignalNewsRow.signal_id.in_([int(i) for i in signals["signal_id"]]))
              .order_by(NewsItemRow.published_at.desc()).limit(news_limit))
    news = _frame(s, news_q, ["published_at", "headline", "compound", "label", "source", "url", "signal_id"])
    return {
        "intent": {"client_order_id": intent.client_order_id, "cycle_id": intent.cycle_id,
                   "strategy": intent.strategy, "symbol": intent.symbol, "side": intent.side, "qty": str(intent.qty),
                   "order_type": intent.order_type, "reference_price": _s(intent.reference_price),
                   "reason": intent.reason, "status": intent.status, "created_at": intent.created_at},
        "decision": None if decision is None else {
            "verdict": decision.verdict, "requested_qty": str(decision.requested_qty),
            "approved_qty": str(decision.approved_qty), "reasons": list(decision.reasons),
            "decided_at": decision.decided_at},
        "order": None if order is None else {
            "status": order.status, "broker": order.broker, "broker_order_id": order.broker_order_id,
            "filled_qty": str(order.filled_qty), "avg_fill_price": _s(order.avg_fill_price),
            "reject_reason": order.reject_reason, "submitted_at": order.submitted_at},
        "signals": signals, "news": news,
    }


def positions_detail(s: Session, run_id: str) -> pd.DataFrame:
    """Return open positions with last close, unrealized PnL, stop/target levels and broker-side protection."""
    rows = s.execute(select(PositionRow, PositionStopRow.stop_loss, PositionStopRow.take_profit,
                            PositionStopRow.levels, InstrumentRow.asset_class)
                     .outerjoin(PositionStopRow, (PositionStopRow.run_id == PositionRow.run_id)
                                & (PositionStopRow.symbol == PositionRow.symbol))
                     .outerjoin(InstrumentRow, InstrumentRow.symbol == PositionRow.symbol)
                     .where(PositionRow.run_id == run_id, PositionRow.qty != 0)).all()
    symbols = [r[0].symbol for r in rows]
    marks = last_closes(s, symbols)
    protect = _protection(s, run_id, symbols)
    out = []
    for pos, stop, target, levels, asset_class in rows:
        qty, avg = float(pos.qty), float(pos.avg_price)
        mark = marks.get(pos.symbol)
        out.append({
            "symbol": pos.symbol, "asset_class": asset_class or "?", "qty": qty, "avg_price": avg, "last": mark,
            "market_value": qty * mark if mark is not None else None,
            "unrealized_pnl": (mark - avg) * qty if mark is not None else None,
            "realized_pnl": float(pos.realized_pnl), "stop": _f(stop), "take_profit": _f(target),
            "trail": _f((levels or {}).get("trail")), "opened_at": pos.opened_at,
            "broker_protection": protect.get(pos.symbol, "none: exits come from the cycle and the sentinel"),
        })
    return pd.DataFrame(out, columns=["symbol", "asset_class", "qty", "avg_price", "last", "market_value",
                                      "unrealized_pnl", "realized_pnl", "stop", "take_profit", "trail", "opened_at",
                                      "broker_protection"])


def last_closes(s: Session, symbols: list[str]) -> dict[str, float]:
    """Return each symbol's newest stored close (any timeframe's newest bar)."""
    if not symbols:
        return {}
    newest = (select(BarRow.symbol, func.max(BarRow.ts).label("ts")).where(BarRow.symbol.in_(symbols))
              .group_by(BarRow.symbol).subquery())
    q = select(BarRow.symbol, BarRow.close).join(newest, (newest.c.symbol == BarRow.symbol)
                                                 & (newest.c.ts == BarRow.ts))
    return {sym: float(close) for sym, close in s.execute(q)}


def _protection(s: Session, run_id: str, symbols: list[str]) -> dict[str, str]:
    q = (select(OrderRow.symbol, OrderRow.order_type, OrderRow.stop_price, OrderRow.status, OrderRow.client_order_id)
         .where(OrderRow.run_id == run_id, OrderRow.symbol.in_(symbols), OrderRow.order_type.in_(PROTECTIVE_TYPES),
                OrderRow.status.not_in(TERMINAL_STATUSES)))
    out: dict[str, str] = {}
    for sym, otype, stop, status, cid in s.execute(q):
        at = f" @ {stop.normalize()}" if stop is not None else ""
        out[sym] = f"{otype}{at} {status} at the broker ({cid})"
    return out


def working_orders(s: Session, run_id: str) -> pd.DataFrame:
    """Return the run's orders not yet in a terminal status."""
    q = (select(OrderRow.client_order_id, OrderRow.symbol, OrderRow.side, OrderRow.qty, OrderRow.order_type,
                OrderRow.status, OrderRow.submitted_at)
         .where(OrderRow.run_id == run_id, OrderRow.status.not_in(TERMINAL_STATUSES)).order_by(OrderRow.id).limit(500))
    return _frame(s, q, ["client_order_id", "symbol", "side", "qty", "order_type", "status", "submitted_at"])


def strategy_trades(s: Session, run_id: str) -> dict[str, list[float]]:
    """Return each strategy's closed round-trip returns (fees included), oldest first."""
    return closed_trade_returns(s, run_id)


def fills_by_strategy(s: Session, run_id: str, limit: int = 5000) -> pd.DataFrame:
    """Return fills with the strategy of the intent behind each, oldest first."""
    q = (select(FillRow.ts, FillRow.symbol, FillRow.side, FillRow.qty, FillRow.price, OrderIntentRow.strategy)
         .join(OrderIntentRow, OrderIntentRow.client_order_id == FillRow.client_order_id)
         .where(FillRow.run_id == run_id).order_by(FillRow.ts).limit(limit))
    return _frame(s, q, ["ts", "symbol", "side", "qty", "price", "strategy"])


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def _f(v: Any) -> float | None:
    return None if v is None else float(v)
