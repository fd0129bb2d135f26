"""Protective levels per position: ATR stop and target, a trailing stop that only ratchets, a time stop."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import Enum
from typing import Any

from risk.types import RiskPolicy
from tradebot.domain import ZERO, Direction, Symbol

_MAX_DISTANCE = Decimal("0.99")  # a stop distance of the whole price would never trigger
_PLACES = Decimal("1e-8")  # finer than any venue's tick; keeps stored levels short


@dataclass(frozen=True, slots=True)
class StopLevels:
    """Where an open position is closed: stop (incl. trailing), take profit, and time limit."""

    symbol: Symbol
    direction: Direction
    entry_price: Decimal
    stop: Decimal
    initial_stop: Decimal
    take_profit: Decimal | None
    trail_distance: Decimal | None
    trail_anchor: Decimal  # best price seen since entry (highest high long, lowest low short)
    atr: Decimal
    opened_at: datetime
    max_holding_days: int | None = None
    last_bar: datetime | None = None  # the newest bar already applied, so a bar is never counted twice

    @property
    def is_long(self) -> bool:
        """Return True for a long position."""
        return self.direction is Direction.LONG

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict; Decimals as strings, times as ISO 8601 (keys match the stop store)."""
        def enc(v: Any) -> Any:
            if isinstance(v, Decimal | Enum):
                return str(v)
            return v.isoformat() if isinstance(v, datetime) else v

        return {f.name: enc(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StopLevels:
        """Rebuild levels from to_dict's output."""
        def dec(k: str) -> Decimal | None:
            return Decimal(str(d[k])) if d.get(k) is not None else None

        return cls(
            symbol=Symbol(d["symbol"]), direction=Direction(d["direction"]), entry_price=Decimal(str(d["entry_price"])),
            stop=Decimal(str(d["stop"])), initial_stop=Decimal(str(d["initial_stop"])), take_profit=dec("take_profit"),
            trail_distance=dec("trail_distance"), trail_anchor=Decimal(str(d["trail_anchor"])),
            atr=Decimal(str(d["atr"])), opened_at=datetime.fromisoformat(d["opened_at"]),
            max_holding_days=int(d["max_holding_days"]) if d.get("max_holding_days") is not None else None,
            last_bar=datetime.fromisoformat(d["last_bar"]) if d.get("last_bar") else None,
        )


def _px(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def initial_levels(symbol: Symbol, direction: Direction, entry: Decimal, atr_value: float | None,
                   opened_at: datetime, policy: RiskPolicy, last_bar: datetime | None = None) -> StopLevels | None:
    """Return fresh levels for a position entered at entry, or None when stops are off or inputs unusable."""
    if policy.stop_atr is None or entry <= ZERO or direction is Direction.FLAT:
        return None
    a = _dec(atr_value) if atr_value is not None and math.isfinite(atr_value) and atr_value > 0 else ZERO
    floor = entry * _dec(policy.min_stop_pct)
    dist = min(max(_dec(policy.stop_atr) * a, floor), entry * _MAX_DISTANCE)
    sign = 1 if direction is Direction.LONG else -1
    # Rounding always moves the stop away from the entry, so it stays on the losing side.
    stop = (entry - sign * dist).quantize(_PLACES, ROUND_FLOOR if sign > 0 else ROUND_CEILING)
    tp = None
    if policy.take_profit_atr is not None and a > ZERO:
        tp = (entry + sign * max(_dec(policy.take_profit_atr) * a, floor)).quantize(_PLACES)
        tp = tp if tp > ZERO else None
    trail = max(_dec(policy.trail_atr) * a, floor).quantize(_PLACES) if policy.trail_atr is not None else None
    return StopLevels(symbol, direction, entry, stop, stop, tp, trail, entry, a, opened_at,
                      policy.max_holding_days, last_bar)


def ratchet(levels: StopLevels, high: float, low: float, bar_ts: datetime | None = None) -> StopLevels:
    """Return levels with the trail anchor and stop moved in the position's favour only."""
    if levels.is_long:
        anchor = max(levels.trail_anchor, _dec(high)) if math.isfinite(high) else levels.trail_anchor
        stop = levels.stop
        if levels.trail_distance is not None:
            stop = max(stop, anchor - levels.trail_distance)
    else:
        anchor = min(levels.trail_anchor, _dec(low)) if math.isfinite(low) else levels.trail_anchor
        stop = levels.stop
        if levels.trail_distance is not None:
            stop = min(stop, anchor + levels.trail_distance)
    return replace(levels, trail_anchor=anchor, stop=stop, last_bar=bar_ts or levels.last_bar)


def check_exit(levels: StopLevels, high: float, low: float, now: datetime) -> tuple[str, str] | None:
    """Return (leg, reason) when the bar hits a level or the holding time is up, checking the stop first."""
    # Within one bar we cannot know whether the high or the low came first: assume the worse, the stop.
    name = "trailing_stop" if levels.stop != levels.initial_stop else "stop_loss"
    if levels.is_long and math.isfinite(low) and _dec(low) <= levels.stop:
        return name, f"{name.replace('_', '-')} hit: bar low {low:.6g} <= stop {_px(levels.stop)}"
    if not levels.is_long and math.isfinite(high) and _dec(high) >= levels.stop:
        return name, f"{name.replace('_', '-')} hit: bar high {high:.6g} >= stop {_px(levels.stop)}"
    tp = levels.take_profit
    if tp is not None and levels.is_long and math.isfinite(high) and _dec(high) >= tp:
        return "take_profit", f"take-profit hit: bar high {high:.6g} >= target {_px(tp)}"
    if tp is not None and not levels.is_long and math.isfinite(low) and _dec(low) <= tp:
        return "take_profit", f"take-profit hit: bar low {low:.6g} <= target {_px(tp)}"
    if levels.max_holding_days is not None:
        held = now - levels.opened_at
        if held >= timedelta(days=levels.max_holding_days):
            return "time_stop", (f"time stop: held {held.total_seconds() / 86400:.1f} days >= "
                                 f"{levels.max_holding_days} day limit")
    return None


def as_utc(ts: Any) -> datetime:
    """Return a bar timestamp (pandas or datetime, naive meaning UTC) as an aware UTC datetime."""
    dt = ts.to_pydatetime() if hasattr(ts, "to_pydatetime") else ts
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
