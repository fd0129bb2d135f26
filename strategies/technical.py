"""Trend following: a simple moving-average cross, vectorized over all symbols."""

from __future__ import annotations

from dataclasses import dataclass

from strategies.base import MarketSnapshot
from strategies.registry import register
from tradebot.domain import Direction, Signal, Symbol


@dataclass(frozen=True)
class SmaCross:
    """Long while the fast SMA is above the slow SMA, flat otherwise."""

    fast: int = 20
    slow: int = 50
    name: str = "sma_cross"

    def __post_init__(self) -> None:
        if not 1 <= self.fast < self.slow:
            raise ValueError(f"need 1 <= fast < slow, got fast={self.fast} slow={self.slow}")

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return a signal per symbol with enough history."""
        closes = snapshot.closes()
        if len(closes) < self.slow:
            return []
        fast = closes.rolling(self.fast, min_periods=self.fast).mean().iloc[-1]
        slow = closes.rolling(self.slow, min_periods=self.slow).mean().iloc[-1]
        last_ts = closes.index[-1].to_pydatetime()
        out = []
        for sym in closes.columns:
            f, s = fast[sym], slow[sym]
            if f != f or s != s:  # NaN: not enough bars for this symbol
                continue
            spread = (f - s) / s
            long = spread > 0
            out.append(Signal(
                strategy=self.name, symbol=Symbol(str(sym)), ts=snapshot.now,
                direction=Direction.LONG if long else Direction.FLAT,
                strength=min(1.0, abs(spread) * 20) if long else 0.0, confidence=0.6,
                horizon_days=self.fast,
                reasons=(f"SMA{self.fast} {f:.2f} {'>' if long else '<='} SMA{self.slow} {s:.2f}",),
                bar_ts=last_ts,
            ))
        return out


@register("sma_cross")
def _factory(fast: int = 20, slow: int = 50) -> SmaCross:
    return SmaCross(fast=int(fast), slow=int(slow))
