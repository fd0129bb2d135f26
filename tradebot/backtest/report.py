"""A backtest's figures as plain JSON-able data: the portfolio, then per strategy and per symbol."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradebot.backtest.engine import BacktestResult
from tradebot.backtest.metrics import equity_metrics, exposure, periods_per_year, trade_metrics, turnover


def summarize(result: BacktestResult) -> dict[str, Any]:
    """Return the headline figures (the CLI's --json object) with per-strategy and per-symbol tables."""
    data, eq = result.data, result.equity
    ppy = periods_per_year(data.index)
    trades = result.trades
    closed = trades.exit_idx >= 0
    head = equity_metrics(eq, data.index, ppy)
    bars = data.bars
    out: dict[str, Any] = {
        "strategy": result.spec.label, "sizing": result.spec.sizing, "fill": result.spec.fill,
        "fee": result.spec.fee, "cash": result.spec.cash, "bars": bars, "series": len(data.keys),
        "seconds": round(result.seconds, 6),
        "bars_per_second": round(bars / result.seconds) if result.seconds else None,
        "first_bar": str(data.index_utc[0]) if len(data.index) else None,
        "last_bar": str(data.index_utc[-1]) if len(data.index) else None,
        **head, **trade_metrics(trades.pnl, closed),
        "exposure": exposure(result.position_value, eq), "turnover": turnover(result.traded_notional, eq, ppy),
        "traded_notional": result.traded_notional, "fees_paid": result.fees_paid,
    }
    out["per_symbol"] = _per_symbol(result, ppy)
    out["per_strategy"] = _per_strategy(result)
    if result.notes:
        out["notes"] = list(result.notes)
    return out


def _per_symbol(result: BacktestResult, ppy: float) -> list[dict[str, Any]]:
    data, t = result.data, result.trades
    rows = []
    for j, key in enumerate(data.keys):
        mine = t.column == j
        ok = ~np.isnan(data.close[:, j])
        eq = result.column_equity[ok, j]
        held = np.abs(result.position_value[ok, j]) > 0
        row = {"symbol": key, "bars": int(ok.sum()), **trade_metrics(t.pnl[mine], (t.exit_idx >= 0)[mine]),
               "exposure": float(held.mean()) if held.size else 0.0}
        if result.spec.sizing == "allin" and len(eq) > 1:
            m = equity_metrics(eq, data.index[ok], periods_per_year(data.index[ok]))
            row.update({k: m[k] for k in ("final_equity", "total_return", "annual_return", "sharpe", "sortino",
                                          "max_drawdown", "calmar")})
        rows.append(row)
    return rows


def _per_strategy(result: BacktestResult) -> list[dict[str, Any]]:
    t = result.trades
    rows = []
    for i, name in enumerate(result.strategy_names):
        mine = t.strategy == i
        rows.append({"strategy": name, **trade_metrics(t.pnl[mine], (t.exit_idx >= 0)[mine])})
    return rows


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """Return the summary without its per-symbol and per-strategy tables."""
    return {k: v for k, v in summary.items() if k not in ("per_symbol", "per_strategy")}
