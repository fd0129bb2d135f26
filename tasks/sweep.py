"""Sweep task: backtest one batch of parameter sets on a (Dask) worker and return their headline figures."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from tasks.common import compute_task
from tradebot.backtest.data import BarArrays, load_bars
from tradebot.backtest.engine import BacktestSpec, run
from tradebot.backtest.report import headline, summarize

RANK_KEYS = ("final_equity", "total_return", "annual_return", "sharpe", "sortino", "max_drawdown", "calmar",
             "trades", "win_rate", "profit_factor", "exposure", "turnover", "seconds")


@lru_cache(maxsize=4)
def _bars(path: str, mtime: float, symbols: tuple[str, ...] | None, timeframe: str | None) -> BarArrays:
    # One read per worker process and file version, however many batches the worker gets.
    return load_bars(path, list(symbols) if symbols else None, timeframe)


def load_cached(path: str, symbols: list[str] | None = None, timeframe: str | None = None) -> BarArrays:
    """Return the bars at path, read once per process while the file is unchanged."""
    return _bars(path, os.path.getmtime(path), tuple(symbols) if symbols else None, timeframe)


def run_batch(data: BarArrays, strategy: str, param_sets: list[dict[str, Any]], fill: str, fee: float, cash: float,
              sizing: str) -> list[dict[str, Any]]:
    """Backtest each parameter set on data; a set the strategy refuses gets its error instead of figures."""
    out: list[dict[str, Any]] = []
    for params in param_sets:
        try:
            spec = BacktestSpec(strategies=((strategy, dict(params)),), fill=fill, fee=fee,  # type: ignore[arg-type]
                                cash=cash, sizing=sizing)
            summary = headline(summarize(run(data, spec)))
        except ValueError as exc:
            out.append({"params": params, "error": str(exc)})
            continue
        out.append({"params": params, **{k: summary.get(k) for k in RANK_KEYS}})
    return out


@compute_task(name="sweep-batch")
def sweep_batch(data_path: str, strategy: str, param_sets: list[dict[str, Any]], fill: str, fee: float, cash: float,
                sizing: str, symbols: list[str] | None = None, timeframe: str | None = None) -> list[dict[str, Any]]:
    """Backtest a batch of parameter sets (one task per batch, never per bar or per set)."""
    return run_batch(load_cached(data_path, symbols, timeframe), strategy, param_sets, fill, fee, cash, sizing)
