"""Signal processor: combine every strategy's signals into one target weight per symbol, and say why.

Rules, in order, per symbol:
1. Signals tagged "pre_earnings" are not votes: they scale the combined weight by `pre_earnings_scale`.
2. Each strategy gets one vote (its signals on the symbol are averaged), worth its configured weight
   times its confidence. A FLAT vote (an exit, or "no trend") counts as a vote for zero exposure.
3. The target is the weighted mean of signed strengths, times `weight_per_unit`.
4. Conflict: when both long and short votes exist and the weaker side carries at least
   `conflict_ratio` of the stronger side's weight, the target is multiplied by `conflict_scale`
   (default 0: stand aside, which also flattens a held position).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tradebot.domain import Direction, Signal, Symbol

PRE_EARNINGS = "pre_earnings"


@dataclass(frozen=True, slots=True)
class Target:
    """The weight of equity we want in one symbol, the signals behind it, and how they were combined."""

    symbol: Symbol
    weight: float
    signals: tuple[Signal, ...]
    reasons: tuple[str, ...] = ()
    lead_strategy: str | None = None  # set by the processor: the strategy with the largest weighted vote

    @property
    def strategy(self) -> str:
        """Return the name of the strategy that drives this target (the strongest weighted signal's)."""
        if self.lead_strategy is not None:
            return self.lead_strategy
        votes = [s for s in self.signals if PRE_EARNINGS not in s.tags] or list(self.signals)
        return max(votes, key=lambda s: abs(s.strength) * s.confidence).strategy


def targets_from_signals(
    signals: Sequence[Signal],
    weight_per_unit: float = 0.25,
    *,
    weights: Mapping[str, float] | None = None,
    default_weight: float = 1.0,
    conflict_ratio: float = 0.5,
    conflict_scale: float = 0.0,
    pre_earnings_scale: float = 0.5,
    current_weights: Mapping[Symbol, float] | None = None,
) -> list[Target]:
    """Combine signals into one target per symbol: weighted, confidence-scaled, conflict- and earnings-aware.

    A symbol with only pre-earnings flags gets a target only when `current_weights` says it is held:
    its current weight times `pre_earnings_scale`, so exposure into the report is cut.
    """
    if not 0 <= pre_earnings_scale <= 1 or not 0 <= conflict_scale <= 1 or not 0 < conflict_ratio <= 1:
        raise ValueError("need 0 <= pre_earnings_scale <= 1, 0 <= conflict_scale <= 1 and 0 < conflict_ratio <= 1")
    strategy_weights = dict(weights or {})
    bad = {k: v for k, v in strategy_weights.items() if v < 0}
    if bad or default_weight < 0:
        raise ValueError(f"strategy weights must be >= 0, got {bad or default_weight}")
    by_symbol: dict[Symbol, list[Signal]] = {}
    for sig in signals:
        by_symbol.setdefault(sig.symbol, []).append(sig)
    out = []
    for sym in sorted(by_symbol):
        target = _combine(sym, by_symbol[sym], weight_per_unit, strategy_weights, default_weight, conflict_ratio,
                          conflict_scale, pre_earnings_scale, (current_weights or {}).get(sym))
        if target is not None:
            out.append(target)
    return out


def _combine(sym: Symbol, sigs: list[Signal], per_unit: float, weights: Mapping[str, float], default_weight: float,
             conflict_ratio: float, conflict_scale: float, pre_scale: float, current: float | None) -> Target | None:
    flags = [s for s in sigs if PRE_EARNINGS in s.tags]
    # A zero-weight strategy or a zero-confidence signal is heard (kept in signals) but has no say.
    votes = {k: v for k, v in _votes([s for s in sigs if PRE_EARNINGS not in s.tags], weights,
                                     default_weight).items() if v[2] > 0}
    reasons: list[str] = []
    if not votes:
        if not flags or not current:
            return None  # no view at all: leave the symbol alone
        reasons.append(f"no strategy view; pre-earnings: current weight {current:+.4f} x {pre_scale}")
        return Target(sym, round(current * pre_scale, 6), tuple(sigs), tuple(reasons), flags[0].strategy)
    mass = sum(w for _, _, w in votes.values())
    combined = sum(x * w for _, x, w in votes.values()) / mass
    reasons.append("votes " + ", ".join(f"{name} {x:+.2f} x weight {w:.2f}" for name, (_, x, w) in votes.items())
                   + f" -> combined {combined:+.3f}")
    longs = sum(w * x for _, x, w in votes.values() if x > 0)
    shorts = sum(w * -x for _, x, w in votes.values() if x < 0)
    if longs > 0 and shorts > 0:
        ratio = min(longs, shorts) / max(longs, shorts)
        if ratio >= conflict_ratio:
            combined *= conflict_scale
            reasons.append(f"conflict: long {longs:.3f} vs short {shorts:.3f} (ratio {ratio:.2f} >= "
                           f"{conflict_ratio}): weight x {conflict_scale}")
        else:
            reasons.append(f"disagreement outweighed: long {longs:.3f} vs short {shorts:.3f} (ratio {ratio:.2f})")
    elif all(x == 0 for _, x, _ in votes.values()):
        exits = sorted(name for name, (flat, _, _) in votes.items() if flat)
        reasons.append("flat: " + (f"exit from {', '.join(exits)}" if exits else "no directional view"))
    elif len(votes) > 1 and sum(1 for _, x, _ in votes.values() if x != 0) > 1:
        reasons.append(f"{sum(1 for _, x, _ in votes.values() if x != 0)} strategies agree")
    weight = combined * per_unit
    if flags and weight != 0:
        weight *= pre_scale
        reasons.append(f"pre-earnings ({flags[0].reasons[0] if flags[0].reasons else flags[0].strategy}): "
                       f"weight x {pre_scale}")
    lead = max(votes.items(), key=lambda kv: (abs(kv[1][1]) * kv[1][2], kv[1][2]))[0]
    return Target(sym, round(weight, 6), tuple(sigs), tuple(reasons), lead)


def _votes(sigs: list[Signal], weights: Mapping[str, float],
           default_weight: float) -> dict[str, tuple[bool, float, float]]:
    """Return per strategy: whether it voted flat, its mean signed strength, and its vote mass."""
    grouped: dict[str, list[Signal]] = {}
    for s in sigs:
        grouped.setdefault(s.strategy, []).append(s)
    out = {}
    for name in sorted(grouped):
        group = grouped[name]
        w = weights.get(name, default_weight)
        conf = sum(s.confidence for s in group) / len(group)
        # Each strategy is one voice however many signals it sent: average them, confidence-weighted.
        signed = sum(_signed(s) * s.confidence for s in group) / (conf * len(group)) if conf > 0 else 0.0
        out[name] = (all(s.direction is Direction.FLAT for s in group), signed, w * conf)
    return out


def _signed(sig: Signal) -> float:
    if sig.direction is Direction.FLAT:
        return 0.0
    return abs(sig.strength) if sig.direction is Direction.LONG else -abs(sig.strength)
