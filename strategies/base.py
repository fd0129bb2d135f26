"""The snapshot a strategy sees and the Strategy protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import pandas as pd

from tradebot.domain import EarningsEvent, Instrument, Position, Signal, Symbol

SENTIMENT_COLUMNS = ("news_id", "symbol", "source", "published_at", "compound")


@dataclass(frozen=True)
class MarketSnapshot:
    """Everything a strategy may know at `now`; builders must drop anything later than now."""

    now: datetime
    bars: pd.DataFrame  # BAR_COLUMNS, ts <= now
    sentiment: pd.DataFrame  # SENTIMENT_COLUMNS, published_at <= now
    instruments: Mapping[Symbol, Instrument]
    positions: Mapping[Symbol, Position] = field(default_factory=dict)
    earnings: Sequence[EarningsEvent] = ()

    def __post_init__(self) -> None:
        # A look-ahead bug is the costliest kind: refuse future data outright.
        if len(self.bars) and self.bars["ts"].max() > self.now:
            raise ValueError(f"snapshot at {self.now.isoformat()} holds bars from the future")
        if len(self.sentiment) and self.sentiment["published_at"].max() > self.now:
            raise ValueError(f"snapshot at {self.now.isoformat()} holds news published after it")

    def closes(self) -> pd.DataFrame:
        """Return closes as a ts x symbol frame (tz-naive index for fast vector math)."""
        if self.bars.empty:
            return pd.DataFrame()
        wide = self.bars.pivot_table(index="ts", columns="symbol", values="close", aggfunc="last")
        return wide.sort_index()


class Strategy(Protocol):
    """Turns a snapshot into signals, vectorized across symbols."""

    @property
    def name(self) -> str:
        """Return the strategy's registered name."""
        ...

    def signals(self, snapshot: MarketSnapshot) -> list[Signal]:
        """Return this strategy's signals at snapshot.now."""
        ...
