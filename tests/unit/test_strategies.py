"""Strategies: news sentiment with decay, SMA cross, the registry, and the no-future-data snapshot."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from strategies import MarketSnapshot, available, create
from tradebot.domain import BAR_COLUMNS, AssetClass, Direction, Instrument, Position, Symbol

NOW = datetime(2026, 3, 10, tzinfo=UTC)
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in ("AAA", "BBB", "CCC")}


def news(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["news_id", "symbol", "source", "published_at", "compound"])
    df["published_at"] = pd.to_datetime(df["published_at"], utc=True)
    return df


def bars(closes: dict[str, list[float]], end=NOW - timedelta(days=1)) -> pd.DataFrame:
    frames = []
    for sym, cs in closes.items():
        ts = pd.date_range(end=end, periods=len(cs), freq="D", tz="UTC")
        c = np.asarray(cs, dtype=float)
        frames.append(pd.DataFrame({"symbol": sym, "timeframe": "1Day", "ts": ts, "open": c, "high": c, "low": c,
                                    "close": c, "volume": 1.0}))
    return pd.concat(frames, ignore_index=True)[list(BAR_COLUMNS)]


def snap(sentiment=None, b=None, positions=None) -> MarketSnapshot:
    return MarketSnapshot(NOW, b if b is not None else bars({"AAA": [1.0]}), sentiment if sentiment is not None
                          else news([]), INSTR, positions or {})


def test_registry_lists_builtins_and_names_unknown_ones():
    assert {"news_sentiment", "sma_cross"} <= set(available())
    with pytest.raises(ValueError, match="unknown strategy 'nope'; available"):
        create("nope")
    with pytest.raises(ValueError, match="bad parameters"):
        create("sma_cross", fast=10, slowest=3)


def test_fresh_positive_news_goes_long_with_its_ids_and_reasons():
    s = create("news_sentiment")
    n = news([("n1", "AAA", "x", NOW - timedelta(hours=2), 0.8), ("n2", "AAA", "x", NOW - timedelta(hours=3), 0.6)])
    [sig] = s.signals(snap(n))
    assert sig.direction is Direction.LONG and sig.strength > 0.6
    assert set(sig.news_ids) == {"n1", "n2"} and "decayed sentiment" in sig.reasons[0]


def test_old_news_decays_below_entry_and_repeated_stories_count_once():
    s = create("news_sentiment", half_life_hours=6)
    n = news([("old", "AAA", "x", NOW - timedelta(hours=60), 0.9), ("neg", "AAA", "x", NOW - timedelta(hours=1), -0.2)])
    assert s.signals(snap(n)) == []
    dup = news([("n1", "BBB", "x", NOW - timedelta(hours=1), 0.9)] * 5)
    [sig] = s.signals(snap(dup))
    assert sig.news_ids == ("n1",)


def test_a_held_position_exits_on_negative_or_no_news():
    s = create("news_sentiment")
    pos = {Symbol("AAA"): Position(Symbol("AAA"), Decimal(5), Decimal(10)),
           Symbol("BBB"): Position(Symbol("BBB"), Decimal(5), Decimal(10))}
    n = news([("n1", "AAA", "x", NOW - timedelta(hours=1), -0.7)])
    out = {x.symbol: x for x in s.signals(snap(n, positions=pos))}
    assert out["AAA"].direction is Direction.FLAT and out["BBB"].direction is Direction.FLAT
    assert "no news" in out["BBB"].reasons[0]


def test_snapshot_refuses_bars_or_news_from_the_future():
    with pytest.raises(ValueError, match="bars from the future"):
        snap(b=bars({"AAA": [1.0, 2.0]}, end=NOW + timedelta(days=1)))
    with pytest.raises(ValueError, match="published after"):
        snap(news([("n", "AAA", "x", NOW + timedelta(minutes=1), 0.5)]))


def test_sma_cross_is_long_on_uptrend_and_flat_on_downtrend():
    up, down = list(np.linspace(10, 20, 60)), list(np.linspace(20, 10, 60))
    out = {s.symbol: s for s in create("sma_cross", fast=5, slow=20).signals(snap(b=bars({"AAA": up, "BBB": down})))}
    assert out["AAA"].direction is Direction.LONG and out["BBB"].direction is Direction.FLAT


def test_sma_cross_needs_slow_bars_of_history():
    assert create("sma_cross", fast=5, slow=20).signals(snap(b=bars({"AAA": [1.0] * 10}))) == []


def test_changing_data_after_now_never_changes_signals_at_now():
    s = create("sma_cross", fast=3, slow=8)
    base = bars({"AAA": list(np.linspace(10, 12, 30))}, end=NOW + timedelta(days=5))
    seen = base[base["ts"] <= NOW - timedelta(days=1)]
    tampered = base.copy()
    tampered.loc[tampered["ts"] > NOW - timedelta(days=1), "close"] = 0.01
    seen2 = tampered[tampered["ts"] <= NOW - timedelta(days=1)]
    assert s.signals(snap(b=seen)) == s.signals(snap(b=seen2))
