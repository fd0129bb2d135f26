"""Read views for the dashboard and summaries: plain DataFrames, no ORM objects leak out."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradebot.store.trading import (
    EquitySnapshotRow,
    FillRow,
    OrderIntentRow,
    OrderRow,
    PositionRow,
    RiskDecisionRow,
    RunRow,
)


def _frame(s: Session, q, columns: list[str]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame(s.execute(q).all(), columns=columns)


def runs(s: Session) -> pd.DataFrame:
    """Return runs, newest first."""
    return _frame(s, select(RunRow.run_id, RunRow.kind, RunRow.mode, RunRow.status, RunRow.initial_cash,
                            RunRow.started_at, RunRow.finished_at).order_by(RunRow.started_at.desc()),
                  ["run_id", "kind", "mode", "status", "initial_cash", "started_at", "finished_at"])


def equity_curve(s: Session, run_id: str) -> pd.DataFrame:
    """Return the run's equity snapshots in time order (money as float for charts)."""
    df = _frame(s, select(EquitySnapshotRow.ts, EquitySnapshotRow.cash, EquitySnapshotRow.positions_value,
                          EquitySnapshotRow.equity).where(EquitySnapshotRow.run_id == run_id)
                .order_by(EquitySnapshotRow.ts), ["ts", "cash", "positions_value", "equity"])
    return df.astype({c: float for c in ("cash", "positions_value", "equity")})


def positions(s: Session, run_id: str) -> pd.DataFrame:
    """Return the run's open positions."""
    df = _frame(s, select(PositionRow.symbol, PositionRow.qty, PositionRow.avg_price, PositionRow.realized_pnl,
                          PositionRow.opened_at).where(PositionRow.run_id == run_id),
                ["symbol", "qty", "avg_price", "realized_pnl", "opened_at"])
    return df[df["qty"] != 0].reset_index(drop=True)


def orders(s: Session, run_id: str) -> pd.DataFrame:
    """Return the run's orders with the risk verdict and reasons that let each one through."""
    q = (select(OrderRow.submitted_at, OrderRow.symbol, OrderRow.side, OrderRow.qty, OrderRow.status,
                OrderRow.avg_fill_price, OrderRow.client_order_id, RiskDecisionRow.verdict,
                RiskDecisionRow.requested_qty, RiskDecisionRow.reasons, OrderIntentRow.reason)
         .join(OrderIntentRow, OrderIntentRow.client_order_id == OrderRow.client_order_id)
         .join(RiskDecisionRow, RiskDecisionRow.client_order_id == OrderRow.client_order_id)
         .where(OrderRow.run_id == run_id).order_by(OrderRow.submitted_at.desc()))
    return _frame(s, q, ["submitted_at", "symbol", "side", "qty", "status", "avg_fill_price", "client_order_id",
                         "verdict", "requested_qty", "risk_reasons", "intent_reason"])


def fills(s: Session, run_id: str) -> pd.DataFrame:
    """Return the run's fills, newest first."""
    return _frame(s, select(FillRow.ts, FillRow.symbol, FillRow.side, FillRow.qty, FillRow.price, FillRow.commission,
                            FillRow.client_order_id).where(FillRow.run_id == run_id).order_by(FillRow.ts.desc()),
                  ["ts", "symbol", "side", "qty", "price", "commission", "client_order_id"])
