"""Performance figures from an equity curve and closed trades: returns, Sharpe, Sortino, drawdown, win rate."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tradebot.backtest.metrics import sharpe_ratio, sortino_ratio

PERIODS_PER_YEAR = 252


def daily_returns(equity: pd.DataFrame) -> pd.Series:
    """Return the day-over-day returns of the last equity mark of each UTC day."""
    if equity.empty:
        return pd.Series(dtype=float)
    daily = equity.set_index(pd.to_datetime(equity["ts"], utc=True))["equity"].resample("1D").last().dropna()
    return daily.pct_change().dropna()


def drawdown(equity: pd.DataFrame) -> pd.DataFrame:
    """Return ts, equity, running peak and drawdown (fraction below the peak, <= 0)."""
    if equity.empty:
        return pd.DataFrame(columns=["ts", "equity", "peak", "drawdown"])
    peak = equity["equity"].cummax()
    return pd.DataFrame({"ts": equity["ts"], "equity": equity["equity"], "peak": peak,
                         "drawdown": equity["equity"] / peak - 1.0})


def summary(equity: pd.DataFrame, initial_cash: float) -> dict[str, float]:
    """Return total return, annualized Sharpe and Sortino of daily returns, and max drawdown."""
    r = daily_returns(equity)
    last = float(equity["equity"].iloc[-1]) if len(equity) else initial_cash
    dd = drawdown(equity)
    return {"total_return": last / initial_cash - 1.0 if initial_cash else 0.0, "sharpe": sharpe(r),
            "sortino": sortino(r), "max_drawdown": float(dd["drawdown"].min()) if len(dd) else 0.0,
            "days": float(len(r))}


def sharpe(r: pd.Series) -> float:
    """Return the annualized Sharpe ratio of daily returns (NaN with fewer than 2 or no variance)."""
    return sharpe_ratio(r.to_numpy(dtype=float), PERIODS_PER_YEAR)


def sortino(r: pd.Series) -> float:
    """Return the annualized Sortino ratio (downside deviation against 0; NaN without losing days)."""
    # The backtest's formula, but a single day's return is too little to call a ratio.
    return math.nan if len(r) < 2 else sortino_ratio(r.to_numpy(dtype=float), PERIODS_PER_YEAR)


def per_strategy(trades: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Return per strategy: closed trades, win rate, mean and total (compounded) return, best and worst."""
    rows = []
    for name, rets in sorted(trades.items()):
        a = np.asarray(rets, dtype=float)
        rows.append({"strategy": name, "trades": len(a), "win_rate": float((a > 0).mean()) if len(a) else math.nan,
                     "mean_return": float(a.mean()) if len(a) else math.nan,
                     "total_return": float(np.prod(1 + a) - 1) if len(a) else 0.0,
                     "best": float(a.max()) if len(a) else math.nan, "worst": float(a.min()) if len(a) else math.nan})
    return pd.DataFrame(rows, columns=["strategy", "trades", "win_rate", "mean_return", "total_return", "best",
                                       "worst"])
