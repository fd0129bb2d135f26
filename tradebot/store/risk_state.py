"""Persisted risk inputs and outputs: daily risk state, stop levels, and closed trades per strategy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradebot.domain import ZERO, Side
from tradebot.store.controls import PositionStopRow, RiskStateRow
from tradebot.store.trading import FillRow, OrderIntentRow


def load_risk_state(s: Session, run_id: str) -> dict[str, Any] | None:
    """Return the run's persisted risk state, or None before its first cycle."""
    row = s.get(RiskStateRow, run_id)
    return dict(row.state) if row else None


def save_risk_state(s: Session, run_id: str, state: Mapping[str, Any], now: datetime) -> None:
    """Persist the run's risk state (JSON-able)."""
    row = s.get(RiskStateRow, run_id)
    if row is None:
        s.add(RiskStateRow(run_id=run_id, state=dict(state), updated_at=now))
    else:
        row.state, row.updated_at = dict(state), now


def load_stops(s: Session, run_id: str) -> dict[str, dict[str, Any]]:
    """Return stop levels per symbol for the run's open positions."""
    rows = s.scalars(select(PositionStopRow).where(PositionStopRow.run_id == run_id))
    return {r.symbol: dict(r.levels) for r in rows}


def save_stops(s: Session, run_id: str, levels: Mapping[str, Mapping[str, Any]], now: datetime) -> None:
    """Replace the run's stop levels with levels (symbols absent from it have no open position)."""
    s.execute(delete(PositionStopRow).where(PositionStopRow.run_id == run_id,
                                            PositionStopRow.symbol.not_in(list(levels))))
    for sym, lv in levels.items():
        row = s.get(PositionStopRow, (run_id, sym))
        stop, target = _dec(lv.get("stop")), _dec(lv.get("take_profit"))
        if row is None:
            s.add(PositionStopRow(run_id=run_id, symbol=sym, stop_loss=stop, take_profit=target, levels=dict(lv),
                                  updated_at=now))
        else:
            row.stop_loss, row.take_profit, row.levels, row.updated_at = stop, target, dict(lv), now


def closed_trade_returns(s: Session, run_id: str) -> dict[str, list[float]]:
    """Return, per strategy, the fractional return of each closed round trip (fees included), oldest first."""
    return _round_trips(s, run_id)[0]


def position_owners(s: Session, run_id: str) -> dict[str, str]:
    """Return, per open position, the strategy whose fill opened it."""
    return _round_trips(s, run_id)[1]


def _round_trips(s: Session, run_id: str) -> tuple[dict[str, list[float]], dict[str, str]]:
    rows = s.execute(select(FillRow, OrderIntentRow.strategy)
                     .join(OrderIntentRow, OrderIntentRow.client_order_id == FillRow.client_order_id)
                     .where(FillRow.run_id == run_id).order_by(FillRow.ts, FillRow.fill_id)).all()
    book: dict[str, dict[str, Any]] = {}
    out: dict[str, list[float]] = {}
    for f, strategy in rows:
        signed = f.qty if f.side == Side.BUY.value else -f.qty
        t = book.setdefault(f.symbol, {"qty": ZERO, "cost": ZERO, "proceeds": ZERO, "strategy": strategy})
        if t["qty"] == ZERO:
            t.update(cost=ZERO, proceeds=ZERO, strategy=strategy)  # the opening fill's strategy owns the trade
        if signed > 0:
            t["cost"] += f.qty * f.price + f.commission
        else:
            t["proceeds"] += f.qty * f.price - f.commission
        t["qty"] += signed
        if t["qty"] == ZERO and t["cost"] > ZERO:
            out.setdefault(t["strategy"], []).append(float(t["proceeds"] / t["cost"] - 1))
    owners = {sym: t["strategy"] for sym, t in book.items() if t["qty"] != ZERO}
    return out, owners


def _dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))
