"""Signal processor: turn signals into target portfolio weights, keeping the signals that caused them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradebot.domain import Direction, Signal, Symbol


@dataclass(frozen=True, slots=True)
class Target:
    """The weight of equity we want in one symbol, and why."""

    symbol: Symbol
    weight: float
    signals: tuple[Signal, ...]

    @property
    def strategy(self) -> str:
        """Return the name of the strategy that drives this target (the strongest signal's)."""
        return max(self.signals, key=lambda s: abs(s.strength) * s.confidence).strategy


def targets_from_signals(signals: Sequence[Signal], weight_per_unit: float = 0.25) -> list[Target]:
    """Confidence-weight each symbol's signals into one target weight (FLAT means zero)."""
    by_symbol: dict[Symbol, list[Signal]] = {}
    for sig in signals:
        by_symbol.setdefault(sig.symbol, []).append(sig)
    out = []
    for sym in sorted(by_symbol):
        sigs = by_symbol[sym]
        total_conf = sum(s.confidence for s in sigs) or 1.0
        strength = sum(_signed(s) * s.confidence for s in sigs) / total_conf
        out.append(Target(sym, round(strength * weight_per_unit, 6), tuple(sigs)))
    return out


def _signed(sig: Signal) -> float:
    if sig.direction is Direction.FLAT:
        return 0.0
    return abs(sig.strength) if sig.direction is Direction.LONG else -abs(sig.strength)
