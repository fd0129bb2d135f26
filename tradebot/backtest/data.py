"""Backtest inputs: bar files (CSV/Parquet, the formats `read_bars` knows) as timezone-naive float arrays.

Vectorized code sees plain float64 (T x N) arrays and a timezone-naive datetime64 index (UTC wall
time): a timezone-aware index made vectorbt ~80x slower here, and numpy has no use for the zone.
The aware UTC index is kept beside it for reports, the ledger and the tearsheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from strategies.base import bar_duration
from tradebot.adapters.files import read_bars
from tradebot.errors import DataError


@dataclass(frozen=True)
class BarArrays:
    """OHLC(V) of N series on the union of their bar times; NaN where a series has no bar."""

    keys: tuple[str, ...]  # one per column: the symbol, or "SYMBOL@1Hour" when a symbol has several timeframes
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    index: np.ndarray  # datetime64[ns], timezone-naive UTC bar open times, sorted, unique
    open: np.ndarray  # (T, N) float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """Return (bars in the time index, series)."""
        return self.close.shape  # type: ignore[return-value]

    @property
    def bars(self) -> int:
        """Return how many real bars (non-missing closes) the arrays hold."""
        return int(np.count_nonzero(~np.isnan(self.close)))

    @property
    def index_utc(self) -> pd.DatetimeIndex:
        """Return the time index as timezone-aware UTC, for reports."""
        return pd.DatetimeIndex(self.index).tz_localize("UTC")

    @property
    def complete_at(self) -> np.ndarray:
        """Return, per column, when each row's bar is complete (open time plus the column's bar length)."""
        spans = np.array([np.timedelta64(bar_duration(tf) or pd.Timedelta(0), "ns") for tf in self.timeframes])
        return self.index[:, None] + spans[None, :]

    def decision_times(self) -> np.ndarray:
        """Return, per row, when its bars are complete and a decision may use them (int64 ns, UTC).

        One time per row needs one bar length: a daily bar and a minute bar stamped alike complete a day
        apart, so mixed timeframes are refused rather than risk using a bar before it is complete.
        """
        tfs = sorted(set(self.timeframes))
        if len(tfs) > 1:
            raise ValueError(f"the data mixes timeframes ({', '.join(tfs)}); pick one with --timeframe")
        span = bar_duration(tfs[0]) if tfs else None
        return (self.index + np.timedelta64(pd.Timedelta(span or 0).value, "ns")).astype(np.int64)

    def bars_per_day(self) -> float:
        """Return how many bars make a day for the finest timeframe (1 for daily bars, 1440 for minutes)."""
        spans = [bar_duration(tf) for tf in self.timeframes]
        known = [s.total_seconds() for s in spans if s is not None and s.total_seconds() > 0]
        return 86400.0 / min(known) if known else 1.0

    def periods_per_year(self) -> float:
        """Return bars per year for annualizing: 252 sessions for daily stock bars, else calendar time."""
        spans = [bar_duration(tf) for tf in self.timeframes]
        known = [s.total_seconds() for s in spans if s is not None and s.total_seconds() > 0]
        if not known:
            return 252.0
        if min(known) >= 86400 and not any(_is_crypto(s) for s in self.symbols):
            return 252.0 * 86400 / min(known)
        return 365.25 * 86400 / min(known)

    def select(self, columns: Sequence[int]) -> BarArrays:
        """Return the arrays of the given columns only (rows where none of them has a bar are dropped)."""
        cols = list(columns)
        keep = ~np.all(np.isnan(self.close[:, cols]), axis=1)
        def pick(a):
            return (np.ascontiguousarray(a[keep][:, cols]))
        return BarArrays(tuple(self.keys[i] for i in cols), tuple(self.symbols[i] for i in cols),
                         tuple(self.timeframes[i] for i in cols), self.index[keep], pick(self.open),
                         pick(self.high), pick(self.low), pick(self.close), pick(self.volume))


def _is_crypto(symbol: str) -> bool:
    return "/" in symbol or symbol.endswith(("USDT", "USD", "BUSD", "USDC"))


def load_bars(path: str | Path, symbols: Sequence[str] | None = None, timeframe: str | None = None) -> BarArrays:
    """Read a bar file or folder into BarArrays (one column per symbol and timeframe)."""
    return from_frame(read_bars(path, symbols, timeframe), str(path))


def from_frame(df: pd.DataFrame, origin: str = "bars") -> BarArrays:
    """Pivot a long BAR_COLUMNS frame into BarArrays; duplicate (symbol, timeframe, ts) keep the last row."""
    if df.empty:
        raise DataError(f"{origin}: no bars to backtest")
    ts = pd.to_datetime(df["ts"], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    frame = df.assign(ts=ts).drop_duplicates(["symbol", "timeframe", "ts"], keep="last")
    pairs = frame[["symbol", "timeframe"]].drop_duplicates().sort_values(["symbol", "timeframe"])
    multi = pairs["symbol"].duplicated(keep=False)
    keys = [f"{s}@{tf}" if m else str(s) for s, tf, m in zip(pairs["symbol"], pairs["timeframe"], multi, strict=True)]
    col_of = {(s, tf): i for i, (s, tf) in enumerate(zip(pairs["symbol"], pairs["timeframe"], strict=True))}
    index = np.unique(frame["ts"].to_numpy())
    rows = np.searchsorted(index, frame["ts"].to_numpy())
    cols = np.fromiter((col_of[(s, tf)] for s, tf in zip(frame["symbol"], frame["timeframe"], strict=True)),
                       dtype=np.int64, count=len(frame))
    shape = (len(index), len(keys))

    def grid(col: str) -> np.ndarray:
        out = np.full(shape, np.nan)
        out[rows, cols] = frame[col].to_numpy(dtype=float)
        return out

    close = grid("close")
    if np.all(np.isnan(close)):
        raise DataError(f"{origin}: every close is missing; nothing to backtest")
    return BarArrays(tuple(keys), tuple(map(str, pairs["symbol"])), tuple(map(str, pairs["timeframe"])), index,
                     grid("open"), grid("high"), grid("low"), close, grid("volume"))


def from_arrays(close: np.ndarray, index: np.ndarray | pd.DatetimeIndex, keys: Sequence[str],
                open_: np.ndarray | None = None, high: np.ndarray | None = None, low: np.ndarray | None = None,
                timeframe: str = "1Min") -> BarArrays:
    """Wrap ready (T x N) arrays (synthetic data, benchmarks) as BarArrays without copying."""
    close = np.asarray(close, dtype=float)
    if close.ndim == 1:
        close = close[:, None]
        open_, high, low = (None if a is None else np.asarray(a, dtype=float)[:, None] for a in (open_, high, low))
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    n = close.shape[1]
    if len(keys) != n or len(idx) != close.shape[0]:
        raise ValueError(f"shapes disagree: close {close.shape}, index {len(idx)}, keys {len(keys)}")
    o = close if open_ is None else open_
    return BarArrays(tuple(keys), tuple(keys), (timeframe,) * n, idx.to_numpy(dtype="datetime64[ns]"), o,
                     close if high is None else high, close if low is None else low, close,
                     np.zeros_like(close))
