"""Array forms of the risk analytics for the backtester: EWMA volatility, ATR, the Kelly x vol allowance, stops.

Each gives, for every bar at once, what risk/sizing.py and risk/stops.py compute at that bar's close
from the bars up to it (same truncated windows, same NaN rules): tests/unit/test_backtest_vectorized.py
checks them against the per-snapshot functions. Analytics here run on the time-aligned grid, as the
risk engine's MarketData frames do.
"""

from __future__ import annotations

import math

import numpy as np

from risk.types import RiskPolicy
from strategies.vectorized import window_ewm


def vol_window(policy: RiskPolicy) -> int:
    """Return how many returns risk.sizing.ewma_daily_vol weighs (weights under 1e-4 of the newest are cut)."""
    return int(np.ceil(np.log(1e-4) / np.log(policy.ewma_lambda))) + 1


def ewma_vol_arrays(close: np.ndarray, policy: RiskPolicy, bars_per_day: float = 1.0) -> np.ndarray:
    """Return ewma_daily_vol at every row (T x N); NaN with too few returns."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(np.log(close), axis=0)
    num, den, count = window_ewm(r * r, policy.ewma_lambda, vol_window(policy))
    with np.errstate(invalid="ignore", divide="ignore"):
        vol = np.sqrt(num / den * bars_per_day)
    vol[count < policy.vol_min_obs] = np.nan
    out = np.full(close.shape, np.nan)
    out[1:] = vol
    return out


def atr_arrays(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Return risk.sizing.atr (Wilder ATR over the last 5 x period true ranges) at every row."""
    prev = close[:-1]
    h, lo = high[1:], low[1:]
    tr = np.fmax(h - lo, np.fmax(np.abs(h - prev), np.abs(lo - prev)))
    decay, window = 1.0 - 1.0 / period, 5 * period
    num, den, count = window_ewm(tr, decay, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = num / den
    # The per-snapshot rule asks for min(period, rows seen) observations.
    seen = np.minimum(np.arange(1, tr.shape[0] + 1), window)[:, None]
    value[count < np.minimum(period, seen)] = np.nan
    out = np.full(close.shape, np.nan)
    out[1:] = value
    return out


def vol_allowance(daily_vol: np.ndarray, policy: RiskPolicy, kelly_used: float | None) -> np.ndarray:
    """Return the Kelly x volatility weight allowance per symbol (Book._allowance); NaN where entries are rejected."""
    vol = np.where(np.isfinite(daily_vol) & (daily_vol > 0), daily_vol,
                   policy.fallback_daily_vol if policy.fallback_daily_vol is not None else np.nan)
    if policy.vol_target is None:
        value = kelly_used if kelly_used is not None else math.inf
        return np.full(vol.shape, value)
    share = kelly_used / policy.kelly_cap if kelly_used is not None else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return policy.vol_target / vol * share


def initial_stops(entry: np.ndarray, atr_value: np.ndarray, side: np.ndarray,
                  policy: RiskPolicy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (stop, take profit, trail distance) for entries at entry price; NaN where a level is off.

    Floats stand in for initial_levels' Decimals; the 1e-8 rounding of stored levels is not reproduced.
    """
    nan = np.full(entry.shape, np.nan)
    if policy.stop_atr is None:
        return nan, nan, nan
    a = np.where(np.isfinite(atr_value) & (atr_value > 0), atr_value, 0.0)
    floor = entry * policy.min_stop_pct
    dist = np.minimum(np.maximum(policy.stop_atr * a, floor), entry * 0.99)
    stop = entry - side * dist
    tp = nan
    if policy.take_profit_atr is not None:
        tp = np.where(a > 0, entry + side * np.maximum(policy.take_profit_atr * a, floor), np.nan)
        tp = np.where(tp > 0, tp, np.nan)
    trail = nan if policy.trail_atr is None else np.maximum(policy.trail_atr * a, floor)
    return stop, tp, trail
