"""The snapshot a strategy sees, the Strategy protocol, and the pure timing rules behind them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol

import pandas as pd

from tradebot.domain import EarningsEvent, EarningsHour, Instrument, Position, Signal, Symbol

SENTIMENT_COLUMNS = ("news_id", "symbol", "source", "published_at", "compound")

# When an announcement's numbers become public, in UTC, by its release slot. Fixed UTC hours are a
# deliberate approximation: they are never earlier than the real release in either US DST regime
# (bmo releases land before the 13:30/14:30 UTC open, amc ones after the 20:00/21:00 UTC close).
_RELEASE_UTC = {
    EarningsHour.BEFORE_OPEN: time(12, 0),
    EarningsHour.DURING: time(16, 0),
    EarningsHour.AFTER_CLOSE: time(21, 0),
}
_UNITS = {"Min": timedelta(minutes=1), "Hour": timedelta(hours=1), "Day": timedelta(days=1),
          "Week": timedelta(weeks=1)}


def bar_duration(timeframe: str) -> timedelta | None:
    """Return how long one bar of a canonical timeframe ("1Min", "1Hour", "1Day") lasts, None if unknown."""
    digits = "".join(ch for ch in timeframe if ch.isdigit())
    unit = _UNITS.get(timeframe[len(digits):])
    return None if unit is None or not digits else int(digits) * unit


def announced_at(event: EarningsEvent) -> datetime:
    """Return the UTC instant from which an earnings event's reported numbers may be used."""
    day = pd.Timestamp(event.date, tz="UTC").to_pydatetime()
    slot = _RELEASE_UTC.get(event.hour)
    if slot is None:
        # Unknown slot: the numbers are surely out by the next midnight, never trust them earlier.
        return day + timedelta(days=1)
    return day.replace(hour=slot.hour, minute=slot.minute)


def visible_earnings(events: Sequence[EarningsEvent], now: datetime) -> tuple[EarningsEvent, ...]:
    """Return events as known at now: the calendar stays, actuals not yet announced are blanked."""
    out = []
    for ev in events:
        if (ev.eps_actual is not None or ev.revenue_actual is not None) and announced_at(ev) > now:
            ev = dataclasses.replace(ev, eps_actual=None, revenue_actual=None)
        out.append(ev)
    return tuple(out)


def completed_at(bars: pd.DataFrame) -> pd.Series:
    """Return when each bar is complete (ts plus its timeframe; ts alone for unknown timeframes)."""
    spans = {tf: bar_duration(str(tf)) or timedelta(0) for tf in bars["timeframe"].unique()}
    return bars["ts"] + bars["timeframe"].map(spans).astype("timedelta64[us]")


@dataclass(frozen=True)
class MarketSnapshot:
    """Everything a strategy may know at `now`; builders must drop anything later than now."""

    now: datetime
    bars: pd.DataFrame  # BAR_COLUMNS, only bars complete at now (a daily bar stamped d completes at d + 1 day)
    sentiment: pd.DataFrame  # SENTIMENT_COLUMNS, published_at <= now
    instruments: Mapping[Symbol, Instrument]
    positions: Mapping[Symbol, Position] = field(default_factory=dict)
    earnings: Sequence[EarningsEvent] = ()  # calendar; actuals announced after now are blanked on entry
    # Which strategy opened each held position, when the ledger knows; strategies exit only their own.
    position_owners: Mapping[Symbol, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A look-ahead bug is the costliest kind: refuse future bars and news outright.
        if len(self.bars):
            done = completed_at(self.bars)
            if done.max() > self.now:
                late = self.bars.loc[done.idxmax()]
                raise ValueError(f"snapshot at {self.now.isoformat()} holds bars from the future: a "
                                 f"{late['timeframe']} bar of {late['symbol']} stamped {late['ts'].isoformat()} "
                                 f"completes at {done.max().isoformat()}")
        if len(self.sentiment) and self.sentiment["published_at"].max() > self.now:
            raise ValueError(f"snapshot at {self.now.isoformat()} holds news published after it")
        # A calendar legitimately lists future events, so mask their numbers rather than refuse them.
        object.__setattr__(self, "earnings", visible_earnings(self.earnings, self.now))

    @classmethod
    def at(cls, now: datetime, bars: pd.DataFrame, sentiment: pd.DataFrame, instruments: Mapping[Symbol, Instrument],
           positions: Mapping[Symbol, Position] | None = None, earnings: Sequence[EarningsEvent] = (),
           position_owners: Mapping[Symbol, str] | None = None) -> MarketSnapshot:
        """Build the snapshot visible at now from fuller data: complete bars, published news, known actuals."""
        seen_bars = bars[completed_at(bars) <= now] if len(bars) else bars
        seen_news = sentiment[sentiment["published_at"] <= now] if len(sentiment) else sentiment
        return cls(now, seen_bars, seen_news, instruments, positions or {}, earnings, position_owners or {})

    def closes(self) -> pd.DataFrame:
        """Return closes as a ts x symbol frame sorted by ts."""
        if self.bars.empty:
            return pd.DataFrame()
        wide = self.bars.pivot_table(index="ts", columns="symbol", values="close", aggfunc="last")
        return wide.sort_index()

    def held(self) -> dict[Symbol, int]:
        """Return the sign (+1 long, -1 short) of every non-zero position."""
        return {s: (1 if p.qty > 0 else -1) for s, p in self.positions.items() if p.qty != 0}

    def may_exit(self, symbol: Symbol, strategy: str) -> bool:
        """Return True when strategy may flatten symbol: it opened it, or nobody recorded who did."""
        owner = self.position_owners.get(symbol)
        return owner is None or owner == strategy


class Strategy(Protocol):
    """Turns a snapshot into signals, vectorized across symbols."""

    @property
    def name(self) -> str:
        """Return the strategy's registered name."""
        ...

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return this strategy's signals at snapshot.now."""
        ...
