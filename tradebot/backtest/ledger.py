"""Write a backtest to the ledger under its run id: the run (kind "backtest"), equity, figures and trades."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.backtest.engine import BacktestResult
from tradebot.backtest.report import headline
from tradebot.store import ledger
from tradebot.store.backtest import BacktestMetricRow, BacktestTradeRow
from tradebot.store.db import transaction
from tradebot.store.trading import EquitySnapshotRow, RunRow

MAX_EQUITY_POINTS = 2000  # the curve is thinned for the ledger; the tearsheet plots it in full
MAX_TRADES = 20_000  # beyond this only the latest round trips are stored (the figures cover all of them)
CENT = Decimal("0.01")
PRICE_Q = Decimal("0.00000001")


def new_run_id(now: datetime | None = None) -> str:
    """Return a fresh backtest run id."""
    return f"backtest-{(now or datetime.now(UTC)):%Y%m%dT%H%M%S%f}"


def _money(x: float, q: Decimal = CENT) -> Decimal:
    return Decimal(repr(float(x))).quantize(q)


def _ts(x: np.datetime64) -> datetime:
    return pd.Timestamp(x).tz_localize("UTC").to_pydatetime()


def save(sessions: sessionmaker[Session], run_id: str, result: BacktestResult, summary: dict[str, Any],
         extra: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Record the backtest in one transaction: all of it lands, or nothing does."""
    now = now or datetime.now(UTC)
    spec = result.spec
    params = {"strategies": [[n, dict(p)] for n, p in spec.strategies], "fill": spec.fill, "fee": spec.fee,
              "sizing": spec.sizing, **(extra or {})}
    index = result.data.index
    step = max(1, int(np.ceil(len(index) / MAX_EQUITY_POINTS)))
    rows = sorted(set(range(0, len(index), step)) | {len(index) - 1})
    invested = result.position_value.sum(axis=1)
    with transaction(sessions) as s:
        ledger.ensure_run(s, run_id, "backtest", "backtest", _money(spec.cash), now, params)
        for i in rows:
            eq = _money(result.equity[i])
            pos = _money(invested[i])
            s.add(EquitySnapshotRow(run_id=run_id, ts=_ts(index[i]), cash=eq - pos, positions_value=pos, equity=eq))
        s.add(BacktestMetricRow(run_id=run_id, scope="portfolio", name="portfolio", metrics=_json(headline(summary))))
        for row in summary.get("per_strategy", []):
            s.add(BacktestMetricRow(run_id=run_id, scope="strategy", name=row["strategy"], metrics=_json(row)))
        for row in summary.get("per_symbol", []):
            s.add(BacktestMetricRow(run_id=run_id, scope="symbol", name=row["symbol"][:64], metrics=_json(row)))
        t = result.trades
        keys, names = result.data.keys, result.strategy_names
        latest = np.argsort(t.entry_idx, kind="stable")[-MAX_TRADES:]
        if latest.size:
            s.execute(insert(BacktestTradeRow), [{
                "run_id": run_id, "symbol": keys[int(t.column[k])][:64], "strategy": names[int(t.strategy[k])],
                "entry_ts": _ts(index[int(t.entry_idx[k])]),
                "exit_ts": _ts(index[int(t.exit_idx[k])]) if t.exit_idx[k] >= 0 else None,
                "qty": _money(t.qty[k], PRICE_Q), "entry_price": _money(t.entry_price[k], PRICE_Q),
                "exit_price": _money(t.exit_price[k], PRICE_Q), "pnl": _money(t.pnl[k]), "ret": float(t.ret[k]),
            } for k in latest])
        ledger.finish_run(s, run_id, "completed", now)


def load_metrics(sessions: sessionmaker[Session], run_id: str) -> dict[str, Any]:
    """Return a recorded backtest's portfolio figures, or {} when the run is unknown."""
    with sessions() as s:
        row = s.get(BacktestMetricRow, (run_id, "portfolio", "portfolio"))
        return dict(row.metrics) if row is not None else {}


def backtest_runs(sessions: sessionmaker[Session]) -> list[str]:
    """Return the ids of recorded backtest runs, oldest first."""
    with sessions() as s:
        return list(s.scalars(select(RunRow.run_id).where(RunRow.kind == "backtest").order_by(RunRow.started_at)))


def _json(d: dict[str, Any]) -> dict[str, Any]:
    # JSON columns refuse NaN/inf on PostgreSQL; None says "undefined" just as well.
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not np.isfinite(v):
            return None
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    return {k: clean(v) for k, v in d.items()}
