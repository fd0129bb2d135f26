"""News in the backtester: the array form equals the per-snapshot news strategy, and an item is used only once
published (not a nanosecond earlier)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from strategies import MarketSnapshot, create
from strategies.vectorized import held_votes, signal_arrays
from tradebot.backtest.data import from_arrays
from tradebot.backtest.engine import BacktestSpec, run
from tradebot.domain import BAR_COLUMNS, AssetClass, Direction, Instrument, Position, Symbol

SYMS = ("AAA", "BBB")
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in SYMS}
START = datetime(2024, 1, 1, tzinfo=UTC)
T = 120
EAGER = {"entry": 0.1, "exit": -0.05, "half_life_hours": 12, "lookback_hours": 48, "allow_short": True,
         "source_weights": {"b": 0.5, "z": 0.0}}


def world(seed=2, n=150):
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (T, 2)), axis=0))
    news = pd.DataFrame({
        "news_id": [f"n{i % 110}" for i in range(n)],  # repeats: reprints of a story
        "symbol": rng.choice(SYMS, n), "source": rng.choice(["a", "b", "z"], n),
        "published_at": START + pd.to_timedelta(rng.integers(0, T * 24 * 60, n), unit="min"),
        "compound": rng.uniform(-1, 1, n),
    })
    return close, news


def bars_frame(close):
    ts = pd.date_range(START, periods=T, freq="D")
    return pd.concat([pd.DataFrame({"symbol": s, "timeframe": "1Day", "ts": ts, "open": close[:, j],
                                    "high": close[:, j], "low": close[:, j], "close": close[:, j], "volume": 1.0})
                      for j, s in enumerate(SYMS)], ignore_index=True)[list(BAR_COLUMNS)]


def test_the_news_array_form_gives_the_per_snapshot_news_signals_on_every_bar():
    close, news = world()
    strategy = create("news_sentiment", **EAGER)
    data = from_arrays(close, pd.date_range(START, periods=T, freq="D"), list(SYMS), timeframe="1Day")
    sig = signal_arrays(strategy, close, now=data.decision_times(), keys=SYMS, news=news)
    bars = bars_frame(close)
    rng = np.random.default_rng(0)
    checked = 0
    for t in range(T):
        now = START + timedelta(days=t + 1)
        side = rng.integers(-1, 2, 2)
        positions = {Symbol(s): Position(Symbol(s), Decimal(int(h)), Decimal(50)) for s, h in zip(SYMS, side,
                                                                                                   strict=True) if h}
        snap = MarketSnapshot.at(now, bars, news, INSTR, positions)
        expected = {x.symbol: x for x in strategy.signals(snap)}
        active, strength = held_votes(sig, side, t)
        conf = sig.confidence_at(t)
        for j, sym in enumerate(SYMS):
            assert bool(active[j]) == (sym in expected), (t, sym)
            if sym in expected:
                e = expected[sym]
                signed = {Direction.LONG: 1, Direction.SHORT: -1, Direction.FLAT: 0}[e.direction] * abs(e.strength)
                assert strength[j] == pytest.approx(signed, abs=1e-9), (t, sym)
                assert conf[j] == pytest.approx(e.confidence, abs=1e-9), (t, sym)
                checked += 1
    assert checked > 60


def run_with(news, close):
    data = from_arrays(close, pd.date_range(START, periods=T, freq="D"), list(SYMS), timeframe="1Day")
    spec = BacktestSpec(strategies=(("news_sentiment", EAGER),), fill="close", sizing="risk", cash=100_000.0)
    return run(data, spec, news)


def test_news_published_after_t_changes_nothing_up_to_t():
    close, news = world(5, 300)
    base = run_with(news, close)
    assert len(base.trades) > 3
    cut = START + timedelta(days=70)
    late = news["published_at"] > cut
    tampered = news.copy()
    tampered.loc[late, "compound"] = -tampered.loc[late, "compound"]
    other = run_with(tampered, close)
    last_row = 69  # its bar completes at day 70 = cut: everything up to it was known by then
    np.testing.assert_allclose(other.equity[:last_row + 1], base.equity[:last_row + 1], rtol=1e-12)
    assert not np.allclose(other.equity, base.equity)


@pytest.mark.parametrize("offset,first_row", [(timedelta(0), 9), (timedelta(microseconds=1), 10)])
def test_an_item_is_used_from_the_first_bar_that_completes_at_or_after_its_publication(offset, first_row):
    close = np.full((T, 2), 50.0)
    published = START + timedelta(days=10) + offset  # bar 9 (stamped day 9) completes at day 10
    news = pd.DataFrame({"news_id": ["x"], "symbol": ["AAA"], "source": ["a"], "published_at": [published],
                         "compound": [0.9]})
    data = from_arrays(close, pd.date_range(START, periods=T, freq="D"), list(SYMS), timeframe="1Day")
    sig = signal_arrays(create("news_sentiment", **EAGER), close, now=data.decision_times(), keys=SYMS, news=news)
    assert np.flatnonzero(sig.active[:, 0])[0] == first_row


def test_mixed_timeframes_are_refused_for_news_with_the_fix_named():
    close = np.full((5, 1), 1.0)
    data = from_arrays(close, pd.date_range(START, periods=5, freq="D"), ["A"], timeframe="1Day")
    mixed = type(data)(("A", "B"), ("A", "B"), ("1Day", "1Min"), data.index, *(np.ones((5, 2)),) * 5)
    with pytest.raises(ValueError, match="mixes timeframes .*--timeframe"):
        mixed.decision_times()
