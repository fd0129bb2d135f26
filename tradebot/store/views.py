"""Read views for the dashboard and summaries: plain DataFrames, no ORM objects leak out; every query bounded.

Per page: views (runs, equity, positions, orders, fills), views_trading (provenance, stops, exposure,
performance inputs), views_market (bars, signals, sentiment, headlines), views_ops (quality, alerts, audit).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradebot.store.trading import (
    DailyPnlRow,
    EquitySnapshotRow,
    FillRow,
    OrderIntentRow,
    OrderRow,
    PositionRow,
    RiskDecisionRow,
    RunRow,
)

MAX_ROWS = 5000  # no page ever needs more rows than this from one query


def _frame(s: Session, q, columns: list[str]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame(s.execute(q).all(), columns=columns)


def runs(s: Session, limit: int = 200) -> pd.DataFrame:
    """Return runs, newest first."""
    return _frame(s, select(RunRow.run_id, RunRow.kind, RunRow.mode, RunRow.status, RunRow.initial_cash,
                            RunRow.started_at, RunRow.finished_at).order_by(RunRow.started_at.desc()).limit(limit),
                  ["run_id", "kind", "mode", "status", "initial_cash", "started_at", "finished_at"])


def equity_curve(s: Session, run_id: str, limit: int = MAX_ROWS) -> pd.DataFrame:
    """Return the run's equity snapshots in time order (money as float for charts), at most the last limit."""
    q = (select(EquitySnapshotRow.ts, EquitySnapshotRow.cash, EquitySnapshotRow.positions_value,
                EquitySnapshotRow.equity).where(EquitySnapshotRow.run_id == run_id)
         .order_by(EquitySnapshotRow.ts.desc()).limit(limit))
    df = _frame(s, q, ["ts", "cash", "positions_value", "equity"]).iloc[::-1].reset_index(drop=True)
    return df.astype({c: float for c in ("cash", "positions_value", "equity")})


def daily_pnl(s: Session, run_id: str, limit: int = 1000) -> pd.DataFrame:
    """Return the run's profit and loss per day, oldest first (floats for charts)."""
    q = (select(DailyPnlRow.day, DailyPnlRow.start_equity, DailyPnlRow.end_equity, DailyPnlRow.pnl)
         .where(DailyPnlRow.run_id == run_id).order_by(DailyPnlRow.day.desc()).limit(limit))
    df = _frame(s, q, ["day", "start_equity", "end_equity", "pnl"]).iloc[::-1].reset_index(drop=True)
    return df.astype({c: float for c in ("start_equity", "end_equity", "pnl")})


def positions(s: Session, run_id: str) -> pd.DataFrame:
    """Return the run's open positions."""
    df = _frame(s, select(PositionRow.symbol, PositionRow.qty, PositionRow.avg_price, PositionRow.realized_pnl,
                          PositionRow.opened_at).where(PositionRow.run_id == run_id),
                ["symbol", "qty", "avg_price", "realized_pnl", "opened_at"])
    return df[df["qty"] != 0].reset_index(drop=True)


def orders(s: Session, run_id: str, symbol: str | None = None, status: str | None = None,
           since: datetime | None = None, limit: int = 1000) -> pd.DataFrame:
    """Return the run's orders (newest first, optionally filtered) with the risk verdict and reasons."""
    q = (select(OrderRow.submitted_at, OrderRow.symbol, OrderRow.side, OrderRow.qty, OrderRow.status,
                OrderRow.avg_fill_price, OrderRow.client_order_id, RiskDecisionRow.verdict,
                RiskDecisionRow.requested_qty, RiskDecisionRow.reasons, OrderIntentRow.reason,
                OrderIntentRow.strategy, OrderRow.order_type, OrderRow.reject_reason)
         .join(OrderIntentRow, OrderIntentRow.client_order_id == OrderRow.client_order_id)
         .join(RiskDecisionRow, RiskDecisionRow.client_order_id == OrderRow.client_order_id)
         .where(OrderRow.run_id == run_id))
    if symbol:
        q = q.where(OrderRow.symbol == symbol)
    if status:
        q = q.where(OrderRow.status == status)
    if since is not None:
        q = q.where(OrderRow.submitted_at >= since)
    return _frame(s, q.order_by(OrderRow.submitted_at.desc(), OrderRow.id.desc()).limit(limit),
                  ["submitted_at", "symbol", "side", "qty", "status", "avg_fill_price", "client_order_id",
                   "verdict", "requested_qty", "risk_reasons", "intent_reason", "strategy", "order_type",
                   "reject_reason"])


def fills(s: Session, run_id: str, limit: int = MAX_ROWS) -> pd.DataFrame:
    """Return the run's fills, newest first."""
    return _frame(s, select(FillRow.ts, FillRow.symbol, FillRow.side, FillRow.qty, FillRow.price, FillRow.commission,
                            FillRow.client_order_id).where(FillRow.run_id == run_id)
                  .order_by(FillRow.ts.desc()).limit(limit),
                  ["ts", "symbol", "side", "qty", "price", "commission", "client_order_id"])
