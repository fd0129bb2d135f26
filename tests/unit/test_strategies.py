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


# -- registry and plugins ---------------------------------------------------------------------------

BUILTINS = {"news_sentiment", "sma_cross", "ema_cross", "rsi_reversion", "bollinger_reversion", "earnings_drift"}


def _install_plugin(tmp_path, monkeypatch, module: str, entry_points: str, source: str) -> None:
    """Install a real distribution with `tradebot.strategies` entry points on sys.path."""
    (tmp_path / f"{module}.py").write_text(source)
    info = tmp_path / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[tradebot.strategies]\n{entry_points}\n")
    monkeypatch.syspath_prepend(str(tmp_path))


PLUGIN_SOURCE = '''
from dataclasses import dataclass

@dataclass(frozen=True)
class Always:
    level: float = 1.0
    name: str = "always_long"

    def signals(self, snapshot):
        return []

def make(**params):
    return Always(**params)

def clash(**params):
    raise AssertionError("a plugin must never replace a built-in")
'''


def test_registry_lists_every_builtin_strategy():
    assert set(available()) >= BUILTINS
    for name in BUILTINS:
        assert create(name).name == name


def test_a_third_party_strategy_is_found_through_its_entry_point(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "tb_plugin_ok",
                    "always_long = tb_plugin_ok:make\nsma_cross = tb_plugin_ok:clash", PLUGIN_SOURCE)
    assert "always_long" in available()
    s = create("always_long", level=0.5)
    assert s.name == "always_long" and s.level == 0.5
    assert create("sma_cross").name == "sma_cross"  # the built-in wins a name clash
    with pytest.raises(ValueError, match="strategy 'always_long': bad parameters"):
        create("always_long", nope=1)


def test_a_broken_plugin_fails_alone_with_a_clear_message(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "tb_plugin_bad", "broken = tb_plugin_bad_missing:make", "")
    assert "broken" in available() and "sma_cross" in available()
    with pytest.raises(ValueError, match="strategy 'broken': plugin tb_plugin_bad_missing:make failed to load"):
        create("broken")


# -- the snapshot -------------------------------------------------------------------------------------


def test_snapshot_refuses_a_daily_bar_that_is_still_open():
    with pytest.raises(ValueError, match="stamped 2026-03-10T00:00:00\\+00:00 completes at 2026-03-11"):
        snap(b=bars({"AAA": [1.0, 2.0]}, end=NOW))


def test_snapshot_at_keeps_only_complete_bars_and_published_news():
    b = bars({"AAA": [1.0, 2.0, 3.0]}, end=NOW)  # the last bar, stamped NOW, is still trading
    n = news([("old", "AAA", "x", NOW - timedelta(hours=1), 0.5), ("new", "AAA", "x", NOW + timedelta(hours=1), 0.5)])
    s = MarketSnapshot.at(NOW, b, n, INSTR)
    assert s.bars["close"].tolist() == [1.0, 2.0] and s.sentiment["news_id"].tolist() == ["old"]


# -- news sentiment -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("compound", "held", "expected"), [
    (0.6, False, Direction.LONG),
    (0.25, False, Direction.LONG),  # at the entry threshold
    (0.2, False, None),  # between exit and entry: no view
    (0.2, True, None),  # ... and a held position is kept
    (-0.05, True, Direction.FLAT),  # at the exit threshold
    (-0.5, False, None),  # long-only: bad news on an unheld symbol says nothing
])
def test_news_entry_and_exit_thresholds(compound, held, expected):
    pos = {Symbol("AAA"): Position(Symbol("AAA"), Decimal(5), Decimal(10))} if held else {}
    n = news([("n1", "AAA", "x", NOW, compound)])
    out = create("news_sentiment").signals(snap(n, positions=pos))
    assert [s.direction for s in out] == ([] if expected is None else [expected])


def test_news_can_short_when_allowed_and_exits_a_short_on_good_news():
    s = create("news_sentiment", allow_short=True)
    [short] = s.signals(snap(news([("n1", "AAA", "x", NOW, -0.6)])))
    assert short.direction is Direction.SHORT and short.strength == pytest.approx(-0.6)
    pos = {Symbol("AAA"): Position(Symbol("AAA"), Decimal(-5), Decimal(10))}
    [flat] = s.signals(snap(news([("n1", "AAA", "x", NOW, 0.1)]), positions=pos))
    assert flat.direction is Direction.FLAT and ">= short exit 0.05" in flat.reasons[0]


def test_source_weights_scale_each_story_and_zero_mutes_a_source():
    n = news([("good", "AAA", "reuters", NOW, 0.8), ("bad", "AAA", "blog", NOW, -0.8)])
    assert create("news_sentiment").signals(snap(n)) == []  # equal weights cancel out
    [sig] = create("news_sentiment", source_weights={"reuters": 3.0}).signals(snap(n))
    assert sig.strength == pytest.approx(0.4)
    [muted] = create("news_sentiment", source_weights={"blog": 0.0}).signals(snap(n))
    assert muted.strength == pytest.approx(0.8) and muted.news_ids == ("good",)


def test_a_story_republished_later_counts_once_at_its_first_publication():
    first = news([("n1", "AAA", "x", NOW - timedelta(hours=48), 0.9), ("n2", "AAA", "x", NOW, 0.1)])
    again = pd.concat([first, news([("n1", "AAA", "y", NOW, 0.9)])], ignore_index=True)
    s = create("news_sentiment", half_life_hours=12, entry=0.2)
    assert s.signals(snap(first)) == s.signals(snap(again)) == []  # the reprint does not refresh the old story


def test_more_news_means_more_confidence():
    s = create("news_sentiment")
    one = s.signals(snap(news([("n1", "AAA", "x", NOW, 0.5)])))[0]
    many = s.signals(snap(news([(f"n{i}", "AAA", "x", NOW, 0.5) for i in range(6)])))[0]
    assert one.strength == many.strength and many.confidence > one.confidence > 0.3


def test_news_parameters_are_validated():
    with pytest.raises(ValueError, match="source weights must be >= 0"):
        create("news_sentiment", source_weights={"x": -1.0})
    with pytest.raises(ValueError, match="exit < entry"):
        create("news_sentiment", entry=0.1, exit=0.2)


# -- technical ----------------------------------------------------------------------------------------

UP, DOWN = list(np.linspace(10, 20, 90)), list(np.linspace(20, 10, 90))
# A flat, gently noisy market whose last few closes fall hard (oversold) or rise hard (overbought).
_FLAT = list(10 + 0.05 * np.sin(np.arange(80)))
CRASH, SPIKE = _FLAT + [9.6, 9.2, 8.8, 8.4], _FLAT + [10.4, 10.8, 11.2, 11.6]
REVERTED = CRASH + [9.5, 10.0, 10.3]


@pytest.mark.parametrize(("name", "params", "closes", "expected"), [
    ("sma_cross", {"fast": 5, "slow": 20}, UP, Direction.LONG),
    ("sma_cross", {"fast": 5, "slow": 20}, DOWN, Direction.FLAT),
    ("sma_cross", {"fast": 5, "slow": 20, "allow_short": True}, DOWN, Direction.SHORT),
    ("ema_cross", {}, UP, Direction.LONG),
    ("ema_cross", {}, DOWN, Direction.FLAT),
    ("ema_cross", {"allow_short": True}, DOWN, Direction.SHORT),
    ("rsi_reversion", {}, CRASH, Direction.LONG),
    ("rsi_reversion", {}, SPIKE, None),
    ("rsi_reversion", {"allow_short": True}, SPIKE, Direction.SHORT),
    ("rsi_reversion", {}, _FLAT, None),
    ("bollinger_reversion", {}, CRASH, Direction.LONG),
    ("bollinger_reversion", {}, SPIKE, None),
    ("bollinger_reversion", {"allow_short": True}, SPIKE, Direction.SHORT),
    ("bollinger_reversion", {}, _FLAT, None),
])
def test_technical_strategies_on_hand_made_series(name, params, closes, expected):
    out = create(name, **params).signals(snap(b=bars({"AAA": closes})))
    assert [s.direction for s in out] == ([] if expected is None else [expected])
    if out:
        assert out[0].bar_ts == NOW - timedelta(days=1) and out[0].reasons[0]


@pytest.mark.parametrize("name", ["rsi_reversion", "bollinger_reversion"])
def test_mean_reversion_exits_a_held_long_once_the_price_has_reverted(name):
    pos = {Symbol("AAA"): Position(Symbol("AAA"), Decimal(5), Decimal(9))}
    [sig] = create(name).signals(snap(b=bars({"AAA": REVERTED}), positions=pos))
    assert sig.direction is Direction.FLAT and "reverted past" in sig.reasons[0]
    assert create(name).signals(snap(b=bars({"AAA": REVERTED}))) == []
    owned = MarketSnapshot(NOW, bars({"AAA": REVERTED}), news([]), INSTR, pos, (), {Symbol("AAA"): "other"})
    assert create(name).signals(owned) == []  # someone else's position is left alone


def test_technical_strategies_run_each_symbol_on_its_own_calendar():
    # A 7-day crypto series beside a weekday stock series: no weekend gaps may blank the stock's average.
    crypto = bars({"CCC": UP})
    stock = bars({"AAA": UP})
    stock = stock[stock["ts"].dt.day_of_week < 5]
    out = create("sma_cross", fast=5, slow=20).signals(snap(b=pd.concat([crypto, stock], ignore_index=True)))
    assert {s.symbol: s.direction for s in out} == {"AAA": Direction.LONG, "CCC": Direction.LONG}


@pytest.mark.parametrize(("name", "params"), [
    ("ema_cross", {"fast": 30, "slow": 10}), ("rsi_reversion", {"oversold": 60}),
    ("bollinger_reversion", {"k": 0}), ("bollinger_reversion", {"window": 2}),
])
def test_technical_parameters_are_validated(name, params):
    with pytest.raises(ValueError):
        create(name, **params)
