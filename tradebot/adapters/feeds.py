"""Price and news feeds over the built-in synthetic market and over bar files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from tradebot.adapters.synthetic import SyntheticMarket
from tradebot.domain import EarningsEvent, Instrument, NewsItem
from tradebot.errors import DataError


class SyntheticFeed:
    """Serves a seeded synthetic market as if it were a live provider (PriceFeed and NewsFeed)."""

    name = "synthetic"

    def __init__(self, seed: int, instruments: Sequence[Instrument], start: datetime, end: datetime) -> None:
        self._market = SyntheticMarket(seed=seed, start=start.date(), end=end.date(), instruments=instruments)
        self._bars = self._market.bars()
        # Everything up to the end of the range; request_news filters by time.
        self._news = self._market.news(end + timedelta(days=1))

    def request_bars(self, symbols: Sequence[str], start: datetime, end: datetime) -> pd.DataFrame:
        """Return bars of symbols with start <= ts < end."""
        b = self._bars
        return b[b["symbol"].isin(symbols) & (b["ts"] >= start) & (b["ts"] < end)].reset_index(drop=True)

    def request_news(self, symbols: Sequence[str], start: datetime, end: datetime) -> list[NewsItem]:
        """Return items about symbols published in [start, end), stamped as ingested at end."""
        wanted = set(symbols)
        return [_ingested(n, end) for n in self._news
                if start <= n.published_at < end and wanted.intersection(n.symbols)]

    def request_earnings(self, symbols: Sequence[str], now: datetime) -> list[EarningsEvent]:
        """Return the calendar as known at now: actuals only for reports already released."""
        wanted = set(symbols)
        return [e for e in self._market.earnings(now) if e.symbol in wanted]


class FilePriceFeed:
    """Serves bars read once from a CSV/Parquet file or folder."""

    name = "file"

    def __init__(self, path: Path, symbols: Sequence[str] | None = None, timeframe: str | None = None) -> None:
        from tradebot.adapters.files import read_bars

        self.path = path
        self._bars = read_bars(path, symbols=symbols, timeframe=timeframe)
        if self._bars.empty:
            raise DataError(f"{path}: no bars found; point data.path at a CSV/Parquet file or folder of them")

    def request_bars(self, symbols: Sequence[str], start: datetime, end: datetime) -> pd.DataFrame:
        """Return bars of symbols with start <= ts < end."""
        b = self._bars
        return b[b["symbol"].isin(symbols) & (b["ts"] >= start) & (b["ts"] < end)].reset_index(drop=True)

    def span(self) -> tuple[datetime, datetime]:
        """Return the first and last bar times in the file(s)."""
        return self._bars["ts"].min().to_pydatetime(), self._bars["ts"].max().to_pydatetime()


def _ingested(item: NewsItem, at: datetime) -> NewsItem:
    from dataclasses import replace

    return replace(item, ingested_at=max(at, item.published_at))
