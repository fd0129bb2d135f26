"""Technical strategies vectorized over all symbols: SMA/EMA trend crosses, RSI and Bollinger mean reversion.

Indicators run on each symbol's own last N bars aligned by position (not by timestamp), so a mixed
stock and crypto universe, whose calendars differ, never feeds weekend NaNs into a stock's average.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from strategies.base import MarketSnapshot
from strategies.registry import register
from tradebot.domain import Direction, Signal, Symbol


def recent_closes(bars: pd.DataFrame, n: int) -> tuple[pd.DataFrame, dict[str, datetime]]:
    """Return the last n closes per symbol as an (n x symbol) frame, oldest row first, and each last bar's ts."""
    if bars.empty:
        return pd.DataFrame(index=range(n)), {}
    b = bars.dropna(subset=["close"]).sort_values(["symbol", "ts"], kind="stable")
    b = b.drop_duplicates(["symbol", "ts"], keep="last").groupby("symbol", sort=False).tail(n)
    newest_first = b.groupby("symbol", sort=False).cumcount(ascending=False)
    wide = b.assign(pos=n - 1 - newest_first).pivot(index="pos", columns="symbol", values="close")
    last_ts = {str(k): v.to_pydatetime() for k, v in b.groupby("symbol")["ts"].max().items()}
    return wide.reindex(range(n)).astype(float), last_ts


def _wilder_rsi(closes: pd.DataFrame, period: int) -> pd.Series:
    delta = closes.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / period, adjust=False, min_periods=period).mean().iloc[-1]
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / period, adjust=False, min_periods=period).mean().iloc[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + gain / loss)
    # No losses at all is maximally overbought; no movement at all is neutral.
    rsi = rsi.where(loss > 0, np.where(gain > 0, 100.0, 50.0))
    return rsi.where(gain.notna() & loss.notna())


class _Emitter:
    """Shared signal construction for the technical strategies."""

    name: str
    horizon_days: int

    def _sig(self, snap: MarketSnapshot, sym: str, direction: Direction, strength: float, confidence: float,
             reason: str, last_ts: dict[str, datetime]) -> Signal:
        signed = {Direction.LONG: abs(strength), Direction.SHORT: -abs(strength), Direction.FLAT: 0.0}[direction]
        return Signal(strategy=self.name, symbol=Symbol(sym), ts=snap.now, direction=direction,
                      strength=float(np.clip(signed, -1.0, 1.0)), confidence=confidence,
                      horizon_days=self.horizon_days, reasons=(reason,), bar_ts=last_ts.get(sym))

    def _reversion(self, snap: MarketSnapshot, value: pd.Series, low: float, high: float, exit_long: float,
                   exit_short: float, strength: pd.Series, label: str, last_ts: dict[str, datetime],
                   allow_short: bool) -> list[Signal]:
        """Enter against an extreme; leave once the indicator is back at its exit level."""
        held = snap.held()
        out = []
        for sym, v in value.dropna().items():
            sym = str(sym)
            if sym not in snap.instruments:
                continue
            side = held.get(Symbol(sym), 0)
            text = f"{label} {v:.2f}"
            if v <= low:
                out.append(self._sig(snap, sym, Direction.LONG, strength[sym], 0.5, f"{text} <= {low}: oversold",
                                     last_ts))
            elif v >= high and allow_short:
                out.append(self._sig(snap, sym, Direction.SHORT, strength[sym], 0.5,
                                     f"{text} >= {high}: overbought", last_ts))
            elif ((side > 0 and v >= exit_long) or (side < 0 and v <= exit_short)) and snap.may_exit(
                    Symbol(sym), self.name):
                level = exit_long if side > 0 else exit_short
                out.append(self._sig(snap, sym, Direction.FLAT, 0.0, 0.5, f"{text}: reverted past {level}, exit",
                                     last_ts))
        return out


@dataclass(frozen=True)
class MovingAverageCross(_Emitter):
    """Long while the fast average is above the slow one; flat (or short, if allowed) otherwise."""

    fast: int = 20
    slow: int = 50
    allow_short: bool = False
    confidence: float = 0.6
    name: str = "sma_cross"

    def __post_init__(self) -> None:
        if not 1 <= self.fast < self.slow:
            raise ValueError(f"need 1 <= fast < slow, got fast={self.fast} slow={self.slow}")

    @property
    def horizon_days(self) -> int:  # type: ignore[override]
        """Return the holding horizon: a trend is judged over the fast window."""
        return self.fast

    def _averages(self, closes: pd.DataFrame) -> tuple[pd.Series, pd.Series, str]:
        fast = closes.iloc[-self.fast:].mean(skipna=False)
        slow = closes.iloc[-self.slow:].mean(skipna=False)
        return fast, slow, "SMA"

    def _window(self) -> int:
        return self.slow

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return a signal per symbol with enough history."""
        closes, last_ts = recent_closes(snapshot.bars, self._window())
        fast, slow, label = self._averages(closes)
        spread = (fast - slow) / slow
        out = []
        for sym, sp in spread.dropna().items():
            sym = str(sym)
            if sym not in snapshot.instruments:
                continue
            f, s = fast[sym], slow[sym]
            direction = Direction.LONG if sp > 0 else Direction.SHORT if sp < 0 and self.allow_short else Direction.FLAT
            # A 5% gap between the averages is as strong as a trend signal gets.
            strength = 0.0 if direction is Direction.FLAT else min(1.0, abs(sp) * 20)
            rel = ">" if sp > 0 else "<="
            reason = f"{label}{self.fast} {f:.2f} {rel} {label}{self.slow} {s:.2f} (spread {sp:+.2%})"
            out.append(self._sig(snapshot, sym, direction, strength, self.confidence, reason, last_ts))
        return out


@dataclass(frozen=True)
class SmaCross(MovingAverageCross):
    """Simple moving-average cross."""


@dataclass(frozen=True)
class EmaCross(MovingAverageCross):
    """Exponential moving-average cross: reacts faster to a turn than the SMA cross."""

    fast: int = 12
    slow: int = 26
    name: str = "ema_cross"

    def _window(self) -> int:
        # Three slow spans of history let the EMA forget its seed value (weight left < 1%).
        return 3 * self.slow

    def _averages(self, closes: pd.DataFrame) -> tuple[pd.Series, pd.Series, str]:
        enough = closes.count() >= self.slow
        fast = closes.ewm(span=self.fast, adjust=False).mean().iloc[-1].where(enough)
        slow = closes.ewm(span=self.slow, adjust=False).mean().iloc[-1].where(enough)
        return fast, slow, "EMA"


@dataclass(frozen=True)
class RsiReversion(_Emitter):
    """Buy an oversold RSI, leave once it is back at `exit_level`; short an overbought one if allowed."""

    period: int = 14
    oversold: float = 30.0
    overbought: float = 70.0
    exit_level: float = 50.0
    allow_short: bool = False
    horizon_days: int = 5
    name: str = "rsi_reversion"

    def __post_init__(self) -> None:
        if self.period < 2 or not 0 < self.oversold < self.exit_level < self.overbought < 100:
            raise ValueError(f"need period >= 2 and 0 < oversold < exit_level < overbought < 100, got "
                             f"period={self.period} oversold={self.oversold} exit_level={self.exit_level} "
                             f"overbought={self.overbought}")

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return entries at RSI extremes and exits for held positions whose RSI has reverted."""
        # Four periods of history settle Wilder's smoothing (its seed weighs under 1% by then).
        closes, last_ts = recent_closes(snapshot.bars, 4 * self.period + 1)
        rsi = _wilder_rsi(closes, self.period)
        depth = pd.concat([(self.oversold - rsi) / self.oversold, (rsi - self.overbought) / (100 - self.overbought)],
                          axis=1).max(axis=1)
        strength = (0.5 + depth).clip(0.0, 1.0)
        return self._reversion(snapshot, rsi, self.oversold, self.overbought, self.exit_level,
                               100 - self.exit_level, strength, f"RSI{self.period}", last_ts, self.allow_short)


@dataclass(frozen=True)
class BollingerReversion(_Emitter):
    """Buy a close `k` deviations under its moving average, leave once back at `exit_z`; short the mirror."""

    window: int = 20
    k: float = 2.0
    exit_z: float = 0.0
    allow_short: bool = False
    horizon_days: int = 5
    name: str = "bollinger_reversion"

    def __post_init__(self) -> None:
        if self.window < 3 or self.k <= 0 or not -self.k < self.exit_z < self.k:
            raise ValueError(f"need window >= 3, k > 0 and -k < exit_z < k, got window={self.window} k={self.k} "
                             f"exit_z={self.exit_z}")

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return entries outside the bands and exits for held positions back inside them."""
        closes, last_ts = recent_closes(snapshot.bars, self.window)
        mean, std = closes.mean(skipna=False), closes.std(ddof=0, skipna=False)
        z = ((closes.iloc[-1] - mean) / std).where(std > 0)
        # At the band the signal is half strength; at twice the band distance it is full.
        strength = (z.abs() / (2 * self.k)).clip(0.0, 1.0)
        return self._reversion(snapshot, z, -self.k, self.k, self.exit_z, -self.exit_z, strength,
                               f"Bollinger z({self.window})", last_ts, self.allow_short)


def _ints(params: dict[str, Any], *names: str) -> dict[str, Any]:
    # Config numbers arrive as floats from JSON; window lengths must be whole bars.
    return {k: int(v) if k in names else v for k, v in params.items()}


@register("sma_cross")
def _sma(**params: Any) -> SmaCross:
    return SmaCross(**_ints(params, "fast", "slow"))


@register("ema_cross")
def _ema(**params: Any) -> EmaCross:
    return EmaCross(**_ints(params, "fast", "slow"))


@register("rsi_reversion")
def _rsi(**params: Any) -> RsiReversion:
    return RsiReversion(**_ints(params, "period", "horizon_days"))


@register("bollinger_reversion")
def _bollinger(**params: Any) -> BollingerReversion:
    return BollingerReversion(**_ints(params, "window", "horizon_days"))
