"""Performance figures of an equity curve and a trade list: returns, risk, drawdown, trade statistics.

Conventions: returns are simple per-bar returns of equity; annualizing uses the bars per year the
index actually holds (252-ish for daily stock bars, 525,960 for 24/7 minutes); Sharpe and Sortino
take a zero risk-free rate; max_drawdown is a positive fraction (0.25 = a 25% fall from the peak).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

YEAR_NS = 365.25 * 86400 * 1e9


def _f(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def periods_per_year(index: np.ndarray) -> float:
    """Return how many bars a year holds, measured from the index span (365.25-day years)."""
    if len(index) < 2:
        return 252.0
    span = float((index[-1] - index[0]).astype("timedelta64[ns]").astype(np.int64))
    return (len(index) - 1) / (span / YEAR_NS) if span > 0 else 252.0


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Return the fall from the running peak at every bar, as a positive fraction."""
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, 1.0 - equity / peak, 0.0)


def max_drawdown_duration(equity: np.ndarray) -> int:
    """Return the longest run of bars spent below a previous peak."""
    under = drawdown(equity) > 0
    if not under.any():
        return 0
    # Length of each run of True: positions minus the position of the last False before them.
    idx = np.arange(len(under))
    last_peak = np.maximum.accumulate(np.where(~under, idx, -1))
    return int(np.max(np.where(under, idx - last_peak, 0)))


def sharpe_ratio(r: np.ndarray, ppy: float) -> float:
    """Return the annualized Sharpe ratio of per-period returns (NaN with fewer than 2 or no variance)."""
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    return float(np.mean(r)) / sd * math.sqrt(ppy) if sd and sd > 0 else math.nan


def sortino_ratio(r: np.ndarray, ppy: float) -> float:
    """Return the annualized Sortino ratio of per-period returns (downside deviation against 0; NaN without losses)."""
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2))) if len(r) else math.nan
    return float(np.mean(r)) / downside * math.sqrt(ppy) if downside and downside > 0 else math.nan


def equity_metrics(equity: np.ndarray, index: np.ndarray, ppy: float | None = None) -> dict[str, Any]:
    """Return total/annualized return, volatility, Sharpe, Sortino, max drawdown (depth, bars, days) and Calmar."""
    equity = np.asarray(equity, dtype=float)
    ppy = ppy or periods_per_year(index)
    start, end = float(equity[0]), float(equity[-1])
    total = end / start - 1.0 if start > 0 else math.nan
    r = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.zeros(0)
    r = r[np.isfinite(r)]
    years = (len(equity) - 1) / ppy if ppy else math.nan
    annual = (end / start) ** (1.0 / years) - 1.0 if years and years > 0 and start > 0 and end > 0 else math.nan
    vol = (float(np.std(r, ddof=1)) if len(r) > 1 else math.nan) * math.sqrt(ppy)
    sharpe, sortino = sharpe_ratio(r, ppy), sortino_ratio(r, ppy)
    dd = drawdown(equity)
    mdd = float(dd.max()) if len(dd) else 0.0
    bars = max_drawdown_duration(equity)
    bar_days = 365.25 / ppy
    calmar = annual / mdd if mdd > 0 and math.isfinite(annual) else math.nan
    return {"start_equity": start, "final_equity": end, "total_return": _f(total), "annual_return": _f(annual),
            "volatility": _f(vol), "sharpe": _f(sharpe), "sortino": _f(sortino), "max_drawdown": mdd,
            "max_drawdown_bars": bars, "max_drawdown_days": _f(bars * bar_days), "calmar": _f(calmar)}


def trade_metrics(pnl: np.ndarray, closed: np.ndarray | None = None) -> dict[str, Any]:
    """Return trade count, win rate and profit factor (closed trades only for the last two)."""
    pnl = np.asarray(pnl, dtype=float)
    done = pnl if closed is None else pnl[closed]
    wins, losses = done[done > 0], done[done <= 0]
    gross_loss = float(-losses.sum())
    pf = float(wins.sum()) / gross_loss if gross_loss > 0 else (math.inf if len(wins) else math.nan)
    return {"trades": int(len(pnl)), "closed_trades": int(len(done)),
            "win_rate": _f(len(wins) / len(done)) if len(done) else None,
            "profit_factor": float(pf) if math.isfinite(pf) else (None if math.isnan(pf) else "inf"),
            "net_pnl": float(pnl.sum())}


def exposure(position_value: np.ndarray, equity: np.ndarray) -> float:
    """Return the mean gross exposure: the average fraction of equity held in positions."""
    gross = np.abs(position_value).sum(axis=1) if position_value.ndim == 2 else np.abs(position_value)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(equity > 0, gross / equity, 0.0)
    return float(np.mean(share)) if len(share) else 0.0


def turnover(traded_notional: float, equity: np.ndarray, ppy: float) -> float:
    """Return traded notional over mean equity, per year."""
    years = (len(equity) - 1) / ppy if ppy else 0.0
    mean = float(np.mean(equity)) if len(equity) else 0.0
    return traded_notional / mean / years if mean > 0 and years > 0 else 0.0
