"""Post-earnings drift stepped day by day over real 2013-2018 S&P prices and the real earnings calendar."""

import bisect
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from strategies import MarketSnapshot, create
from strategies.base import announced_at
from tradebot.adapters.files import read_bars, read_earnings_csv
from tradebot.domain import AssetClass, Direction, Instrument, Symbol

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PRICES = SHARED / "prices" / "daily_sp500_2013_2018"
EARNINGS = SHARED / "earnings" / "earnings_latest.csv"
FORWARD = 20  # trading days held after the entry bar's open
WARMUP = 80  # bars before the first step, so the volatility window is full
BAR_LOOKBACK = timedelta(days=120)  # what the trade cycle loads, too
CALENDAR_WINDOW = timedelta(days=45)
NO_NEWS = pd.DataFrame(columns=["news_id", "symbol", "source", "published_at", "compound"])

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replay():
    """Run earnings_drift on every session's close and return its signals with the data behind them."""
    if not PRICES.exists() or not EARNINGS.exists():
        pytest.skip(f"real data not present under {SHARED} (it lives beside the project, not in it)")
    bars = read_bars(PRICES).sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    symbols = sorted(bars["symbol"].unique())
    events = sorted(read_earnings_csv(EARNINGS, symbols=symbols), key=lambda e: e.date)
    dates = [e.date for e in events]
    instruments = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "US") for s in symbols}
    strategy = create("earnings_drift")
    sessions = list(pd.DatetimeIndex(bars["ts"].unique()).sort_values())
    ts = bars["ts"].to_numpy(dtype="datetime64[us]")
    rows = []
    for k in range(WARMUP, len(sessions) - FORWARD - 1):
        now = (sessions[k] + pd.Timedelta(days=1)).to_pydatetime()  # the moment bar k is complete
        lo = np.searchsorted(ts, np.datetime64(sessions[k].tz_localize(None) - BAR_LOOKBACK, "us"))
        hi = np.searchsorted(ts, np.datetime64(sessions[k].tz_localize(None), "us"), side="right")
        cal = events[bisect.bisect_left(dates, (now - CALENDAR_WINDOW).date()):
                     bisect.bisect_right(dates, (now + CALENDAR_WINDOW).date())]
        snap = MarketSnapshot(now, bars.iloc[lo:hi], NO_NEWS, instruments, earnings=cal)
        rows.extend((k, sig) for sig in strategy.signals(snap))
    opens = bars.pivot(index="ts", columns="symbol", values="open")
    closes = bars.pivot(index="ts", columns="symbol", values="close")
    return strategy, events, rows, opens, closes, sessions


def test_drift_entries_come_after_a_release_and_inside_the_window(replay):
    strategy, events, rows, *_ = replay
    released = defaultdict(list)
    for e in events:
        released[e.symbol].append(announced_at(e))
    entries = [sig for _, sig in rows if sig.direction is not Direction.FLAT]
    assert len(entries) > 1000
    for sig in entries:
        last = max((r for r in released[sig.symbol] if r <= sig.ts), default=None)
        assert last is not None and sig.ts - last <= timedelta(days=strategy.horizon_days), sig
        assert sig.bar_ts is not None and sig.bar_ts + timedelta(days=1) <= sig.ts  # only complete bars seen


def test_every_report_is_flagged_in_the_days_before_it(replay):
    strategy, events, rows, _, _, sessions = replay
    flags = {(sig.symbol, sig.ts.date()) for _, sig in rows if "pre_earnings" in sig.tags}
    for sym, day in flags:
        assert any(e.symbol == sym and 0 <= (e.date - day).days <= strategy.pre_window_days for e in events)
    first, last = sessions[WARMUP + 5].date(), sessions[-FORWARD - 2].date()
    inside = [e for e in events if first <= e.date <= last]
    flagged = [e for e in inside if any((e.symbol, e.date - timedelta(days=d)) in flags
                                        for d in range(strategy.pre_window_days + 1))]
    assert len(flagged) >= 0.9 * len(inside) > 500


def test_drift_longs_beat_drift_shorts_over_the_next_twenty_sessions(replay):
    _, _, rows, opens, closes, _ = replay
    # Market-adjusted: each trade's return minus the equal-weighted return of all 40 stocks that window,
    # so the 2013-2018 bull market does not pass for skill.
    market = (closes.shift(-FORWARD) / opens.shift(-1) - 1).mean(axis=1)
    trades, last_seen = [], {}
    for k, sig in rows:
        if sig.direction is Direction.FLAT:
            continue
        fresh = k - last_seen.get(sig.symbol, -99) > 5  # first day of a new drift window: one trade per event
        last_seen[sig.symbol] = k
        if fresh:
            gross = closes.iloc[k + FORWARD][sig.symbol] / opens.iloc[k + 1][sig.symbol] - 1
            trades.append((sig.direction.value, gross - market.iloc[k]))
    df = pd.DataFrame(trades, columns=["side", "excess"])
    stats = df.groupby("side")["excess"].agg(["count", "mean"])
    spread = stats.loc["long", "mean"] - stats.loc["short", "mean"]
    df["hit"] = np.where(df["side"] == "long", df["excess"] > 0, df["excess"] < 0)
    hit = float(df["hit"].mean())
    sides = df.groupby("side").agg(n=("excess", "size"), mean=("excess", "mean"), hit=("hit", "mean"))
    print(f"\nearnings_drift on real data: {sides.round(4).to_dict('index')}, long-short {spread:+.4f}, "
          f"hit rate {hit:.3f}")
    assert stats.loc["long", "count"] > 250 and stats.loc["short", "count"] > 50
    assert spread > 0  # measured +1.0% per 20 sessions with the defaults
    assert 0.4 < hit < 0.7
