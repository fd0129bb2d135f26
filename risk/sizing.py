"""Position sizing: fractional Kelly with shrinkage, EWMA volatility, ATR, and asset-class quantity rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

import numpy as np
import pandas as pd

from risk.types import RiskPolicy, TradeStats
from tradebot.domain import ZERO, Instrument

StrategyStats = Mapping[str, "TradeStats | Sequence[float]"]


def floor_to_step(qty: Decimal, step: Decimal) -> Decimal:
    """Round qty down to a whole number of steps."""
    if step <= ZERO:
        raise ValueError(f"qty step must be positive, got {step}")
    return (qty / step).to_integral_value(ROUND_DOWN) * step


def to_decimal(x: float, places: int = 8) -> Decimal:
    """Return a float analytic as a Decimal with bounded precision, for money comparisons."""
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places))


@dataclass(frozen=True, slots=True)
class KellyEstimate:
    """A strategy's shrunk win rate and payoff, the full Kelly fraction and the capped fraction used."""

    win_rate: float
    payoff: float
    trades: int
    full: float
    used: float

    def describe(self, strategy: str) -> str:
        """Return the estimate as a reason line."""
        return (f"Kelly for {strategy}: win rate {self.win_rate:.3f}, payoff {self.payoff:.2f} over {self.trades} "
                f"trades (shrunk to prior) -> full {self.full:+.4f}, used {self.used:.4f}")


def kelly(stats: TradeStats | Sequence[float] | None, policy: RiskPolicy) -> KellyEstimate:
    """Return the fractional Kelly estimate, shrinking win rate and payoff toward the policy's prior."""
    if stats is None:
        stats = TradeStats(0, 0, 0.0, 0.0)
    elif not isinstance(stats, TradeStats):
        stats = TradeStats.from_returns(tuple(stats))
    k = policy.prior_trades
    # Beta-binomial style: the prior acts as k pseudo-trades, so a handful of lucky trades moves little.
    p = (stats.wins + k * policy.prior_win_rate) / (stats.count + k) if stats.count + k else policy.prior_win_rate
    # A payoff ratio needs both a win and a loss; its evidence is the rarer of the two.
    evidence = min(stats.wins, stats.losses)
    observed = stats.avg_win / stats.avg_loss if evidence and stats.avg_loss > 0 else policy.prior_payoff
    b = (evidence * observed + k * policy.prior_payoff) / (evidence + k) if evidence + k else observed
    full = p - (1 - p) / b if b > 0 else -1.0
    frac = policy.kelly_fraction or 1.0
    used = min(max(frac * full, 0.0), policy.kelly_cap)
    return KellyEstimate(p, b, stats.count, full, used)


def _ewm_last(x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the last EWMA value per column ignoring NaNs, and the count of observations."""
    n = x.shape[0]
    weights = (1 - alpha) ** np.arange(n - 1, -1, -1, dtype=float)
    ok = ~np.isnan(x)
    num = weights @ np.where(ok, x, 0.0)
    den = weights @ ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den, ok.sum(axis=0)


def ewma_daily_vol(close: pd.DataFrame, policy: RiskPolicy, bars_per_day: float = 1.0) -> pd.Series:
    """Return each column's EWMA realized volatility of log returns, scaled to one day (NaN if too short)."""
    # Weights below 1e-4 of the newest add nothing; cutting the window keeps 500 symbols cheap.
    window = int(np.ceil(np.log(1e-4) / np.log(policy.ewma_lambda))) + 1
    c = close.to_numpy(dtype=float)[-window - 1:]
    if c.shape[0] < 2:
        return pd.Series(np.nan, index=close.columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(np.log(c), axis=0)
    var, obs = _ewm_last(r * r, 1 - policy.ewma_lambda)
    vol = np.sqrt(var * bars_per_day)
    vol[obs < policy.vol_min_obs] = np.nan
    return pd.Series(vol, index=close.columns)


def atr(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame, period: int) -> pd.Series:
    """Return each column's Wilder average true range at the last bar (NaN without enough bars)."""
    rows = 5 * period + 1  # Wilder weights (1 - 1/period)^k fade below 1% after ~5 periods
    h = high.to_numpy(dtype=float)[-rows:]
    lo = low.to_numpy(dtype=float)[-rows:]
    c = close.to_numpy(dtype=float)[-rows:]
    if c.shape[0] < 2:
        return pd.Series(np.nan, index=close.columns)
    prev = c[:-1]
    tr = np.fmax(h[1:] - lo[1:], np.fmax(np.abs(h[1:] - prev), np.abs(lo[1:] - prev)))
    value, obs = _ewm_last(tr, 1.0 / period)
    value[obs < min(period, tr.shape[0])] = np.nan
    return pd.Series(value, index=close.columns)


def qty_step(inst: Instrument, policy: RiskPolicy) -> Decimal:
    """Return the order quantity step: the venue's step, or the fractional step for equities when allowed."""
    if not inst.is_crypto and policy.fractional_equities:
        return policy.fractional_step
    return inst.qty_step


def min_qty(inst: Instrument, policy: RiskPolicy) -> Decimal:
    """Return the smallest order quantity the venue accepts."""
    if not inst.is_crypto and policy.fractional_equities:
        return policy.fractional_step
    return inst.min_qty


def min_notional(inst: Instrument, policy: RiskPolicy) -> Decimal:
    """Return the smallest order value accepted: the policy floor, raised for crypto venues."""
    floor = policy.limits.min_order_notional
    return max(floor, policy.crypto_min_notional) if inst.is_crypto else floor
