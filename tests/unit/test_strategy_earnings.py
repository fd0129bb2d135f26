"""Post-earnings drift: release timing, surprise scaled by volatility, reaction, news, exits, pre-earnings flags."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from strategies import MarketSnapshot, create
from strategies.base import announced_at
from strategies.earnings import EarningsDrift, reaction_index, relative_surprise
from tradebot.domain import (
    BAR_COLUMNS,
    AssetClass,
    Direction,
    EarningsEvent,
    EarningsHour,
    Instrument,
    Position,
    Symbol,
)

SYMS = ("AAA", "BBB")
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in SYMS}
START = datetime(2024, 1, 1, tzinfo=UTC)
EVENT_DAY = date(2024, 3, 11)  # a Monday, bar index 70 of the series below
NO_NEWS = pd.DataFrame(columns=["news_id", "symbol", "source", "published_at", "compound"])


def event(sym="AAA", day=EVENT_DAY, hour=EarningsHour.AFTER_CLOSE, est=1.0, act=1.1) -> EarningsEvent:
    return EarningsEvent(Symbol(sym), day, hour, est, act)


def series(jump_on: date | None = None, jump=0.05, vol=0.01, days=100, seed=1, sym="AAA") -> pd.DataFrame:
    """Return daily bars of a random walk with daily vol `vol` and one `jump` on the bar stamped jump_on."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(START, periods=days, freq="D", tz="UTC")
    rets = rng.normal(0, vol, days)
    if jump_on is not None:
        rets[ts.date == jump_on] = jump
    c = 100 * np.exp(np.cumsum(rets))
    return pd.DataFrame({"symbol": sym, "timeframe": "1Day", "ts": ts, "open": c, "high": c, "low": c, "close": c,
                         "volume": 1.0})[list(BAR_COLUMNS)]


def snap_at(now: datetime, bars: pd.DataFrame, events=(), news=NO_NEWS, positions=None, owners=None):
    return MarketSnapshot.at(now, bars, news, INSTR, positions or {}, list(events), owners or {})


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.mark.parametrize(("hour", "expected"), [
    (EarningsHour.BEFORE_OPEN, datetime(2024, 3, 11, 12, tzinfo=UTC)),
    (EarningsHour.DURING, datetime(2024, 3, 11, 16, tzinfo=UTC)),
    (EarningsHour.AFTER_CLOSE, datetime(2024, 3, 11, 21, tzinfo=UTC)),
    (EarningsHour.UNKNOWN, datetime(2024, 3, 12, 0, tzinfo=UTC)),
])
def test_an_actual_is_usable_only_from_its_release_slot(hour, expected):
    assert announced_at(event(hour=hour)) == expected


@pytest.mark.parametrize(("hour", "reaction_day"), [
    (EarningsHour.BEFORE_OPEN, date(2024, 3, 11)),  # released before the open: that session reacts
    (EarningsHour.DURING, date(2024, 3, 11)),  # released mid-session: that session's close reacts
    (EarningsHour.AFTER_CLOSE, date(2024, 3, 12)),  # released after the close: the next session reacts
    (EarningsHour.UNKNOWN, date(2024, 3, 12)),  # unknown: assume the worst case, the next session
])
def test_the_reaction_bar_is_the_first_session_closing_after_the_release(hour, reaction_day):
    ts = pd.date_range(START, periods=100, freq="D").to_numpy(dtype="datetime64[us]")
    i = reaction_index(ts, announced_at(event(hour=hour)))
    assert pd.Timestamp(ts[i]).date() == reaction_day


@pytest.mark.parametrize(("est", "act", "expected"), [
    (1.0, 1.1, 0.1),
    (1.0, 0.8, -0.2),
    (-0.5, -0.25, 0.5),  # a smaller loss than feared is a beat
    (0.01, 0.03, 0.4),  # the 5-cent floor stops a 1-cent estimate from exploding the ratio
    (0.1, 5.0, 1.0),  # capped
    (None, 1.0, None),
    (1.0, None, None),
])
def test_relative_surprise_handles_signs_tiny_estimates_and_gaps(est, act, expected):
    got = relative_surprise(event(est=est, act=act))
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize(("est", "act", "jump", "direction"), [
    (1.0, 1.15, 0.06, Direction.LONG),  # beat and the market agrees
    (1.0, 0.85, -0.06, Direction.SHORT),  # miss and the market agrees
])
def test_a_surprise_confirmed_by_the_reaction_trades_in_its_direction(est, act, jump, direction):
    bars = series(jump_on=date(2024, 3, 12), jump=jump)
    [sig] = create("earnings_drift").signals(snap_at(at(date(2024, 3, 13)), bars, [event(est=est, act=act)]))
    assert sig.direction is direction and sig.confidence > 0.8 and abs(sig.strength) > 0.5
    assert "surprise" in sig.reasons[0] and "first reaction" in sig.reasons[1]
    assert sig.bar_ts == datetime(2024, 3, 12, tzinfo=UTC) and sig.tags == ()


def test_a_reaction_that_contradicts_the_surprise_lowers_confidence():
    agree = series(jump_on=date(2024, 3, 12), jump=0.06)
    disagree = series(jump_on=date(2024, 3, 12), jump=-0.02)
    s = EarningsDrift(entry=0.0)
    [a] = s.signals(snap_at(at(date(2024, 3, 13)), agree, [event(act=1.15)]))
    [d] = s.signals(snap_at(at(date(2024, 3, 13)), disagree, [event(act=1.15)]))
    assert d.confidence < a.confidence and abs(d.strength) < abs(a.strength)


def test_the_same_surprise_counts_more_for_a_calm_stock_than_a_volatile_one():
    s = EarningsDrift(entry=0.0, reaction_weight=0.0, news_weight=0.0)
    calm, wild = series(vol=0.005, jump_on=date(2024, 3, 12), jump=0.0), series(vol=0.03, jump_on=date(2024, 3, 12),
                                                                                jump=0.0)
    now = at(date(2024, 3, 13))
    [c] = s.signals(snap_at(now, calm, [event(act=1.05)]))
    [w] = s.signals(snap_at(now, wild, [event(act=1.05)]))
    assert c.strength > w.strength > 0


@pytest.mark.parametrize(("hour", "first_signal_at"), [
    (EarningsHour.BEFORE_OPEN, datetime(2024, 3, 12, tzinfo=UTC)),  # bar of 3-11 complete at 3-12 00:00
    (EarningsHour.AFTER_CLOSE, datetime(2024, 3, 13, tzinfo=UTC)),  # bar of 3-12 complete at 3-13 00:00
])
def test_no_drift_signal_before_the_reaction_bar_is_complete(hour, first_signal_at):
    bars = series(jump_on=date(2024, 3, 11) if hour is EarningsHour.BEFORE_OPEN else date(2024, 3, 12), jump=0.06)
    s = create("earnings_drift", pre_window_days=0)
    ev = [event(hour=hour, act=1.2)]
    assert s.signals(snap_at(first_signal_at - timedelta(minutes=1), bars, ev)) == []
    assert [x.direction for x in s.signals(snap_at(first_signal_at, bars, ev))] == [Direction.LONG]


def test_without_requiring_the_reaction_the_surprise_alone_trades_right_after_release():
    s = EarningsDrift(require_reaction=False, pre_window_days=0)
    ev = [event(act=1.3)]
    # Before 21:00 the actual is still hidden: only the same-day pre-earnings flag.
    assert [x.tags for x in s.signals(snap_at(at(EVENT_DAY, 20), series(), ev))] == [("pre_earnings",)]
    [sig] = s.signals(snap_at(at(EVENT_DAY, 22), series(), ev))
    assert sig.direction is Direction.LONG and not any("reaction" in r for r in sig.reasons)


def test_news_after_the_report_joins_the_score_and_is_linked():
    bars = series(jump_on=date(2024, 3, 12), jump=0.02)
    news = pd.DataFrame({"news_id": ["n1", "n2", "old"], "symbol": ["AAA", "AAA", "AAA"], "source": "x",
                         "published_at": pd.to_datetime(["2024-03-11 22:00", "2024-03-12 09:00", "2024-03-01 00:00"],
                                                        utc=True), "compound": [0.8, 0.6, -0.9]})
    s = EarningsDrift(entry=0.0)
    [sig] = s.signals(snap_at(at(date(2024, 3, 13)), bars, [event(act=1.05)], news=news))
    [plain] = s.signals(snap_at(at(date(2024, 3, 13)), bars, [event(act=1.05)]))
    assert sig.news_ids == ("n1", "n2") and any("news since the report +0.70" in r for r in sig.reasons)
    assert sig.confidence > plain.confidence


LONG_POS = {Symbol("AAA"): Position(Symbol("AAA"), Decimal(10), Decimal(100))}


@pytest.mark.parametrize(("days_after", "positions", "owners", "expected"), [
    (10, {}, {}, Direction.LONG),  # inside the 20d window
    (22, {}, {}, None),  # window over, nothing held: silence
    (22, LONG_POS, {}, Direction.FLAT),  # window over, held long: exit
    (22, LONG_POS, {Symbol("AAA"): "news_sentiment"}, None),  # someone else's position: leave it
    (22, LONG_POS, {Symbol("AAA"): "earnings_drift"}, Direction.FLAT),
    (40, LONG_POS, {}, None),  # past the exit grace: no longer plausibly ours
])
def test_the_drift_exits_a_held_position_after_its_horizon(days_after, positions, owners, expected):
    bars = series(jump_on=date(2024, 3, 12), jump=0.06, days=120)
    now = at(EVENT_DAY + timedelta(days=days_after))
    out = create("earnings_drift").signals(snap_at(now, bars, [event(act=1.2)], positions=positions, owners=owners))
    assert [s.direction for s in out] == ([] if expected is None else [expected])
    if expected is Direction.FLAT:
        assert "drift horizon of 20d" in out[0].reasons[0]


def test_with_shorting_off_a_negative_drift_exits_a_held_long_instead():
    bars = series(jump_on=date(2024, 3, 12), jump=-0.06)
    s = create("earnings_drift", allow_short=False)
    now, ev = at(date(2024, 3, 13)), [event(act=0.8)]
    assert s.signals(snap_at(now, bars, ev)) == []
    [sig] = s.signals(snap_at(now, bars, ev, positions=LONG_POS))
    assert sig.direction is Direction.FLAT and "shorting is off" in sig.reasons[0]


@pytest.mark.parametrize(("days_before", "confidence"), [(0, 1.0), (1, 0.75), (2, 0.5), (3, 0.25), (4, None)])
def test_upcoming_reports_are_flagged_with_proximity_as_confidence(days_before, confidence):
    ev = [event(sym="BBB", act=None)]
    now = at(EVENT_DAY - timedelta(days=days_before), 15)
    out = create("earnings_drift", pre_window_days=3).signals(snap_at(now, series(sym="BBB"), ev))
    if confidence is None:
        assert out == []
        return
    [sig] = out
    assert sig.tags == ("pre_earnings",) and sig.direction is Direction.FLAT and sig.strength == 0
    assert sig.confidence == pytest.approx(confidence) and "earnings amc on 2024-03-11" in sig.reasons[0]


def test_an_actual_already_in_the_calendar_is_not_seen_before_release():
    # A backtest calendar carries the actuals; the snapshot hides them until the release slot.
    ev = [event(act=5.0)]
    snap = snap_at(at(EVENT_DAY, 20), series(), ev)
    assert snap.earnings[0].eps_actual is None
    assert [s.tags for s in create("earnings_drift").signals(snap)] == [("pre_earnings",)]
    assert snap_at(at(EVENT_DAY, 21), series(), ev).earnings[0].eps_actual == 5.0


def test_symbols_outside_the_universe_and_thin_history_are_ignored():
    s = create("earnings_drift")
    assert s.signals(snap_at(at(date(2024, 3, 13)), series(sym="AAA"), [event(sym="ZZZ")])) == []
    short_history = series(jump_on=date(2024, 3, 12), jump=0.06)
    short_history = short_history[short_history["ts"] >= pd.Timestamp("2024-03-05", tz="UTC")]
    assert s.signals(snap_at(at(date(2024, 3, 13)), short_history, [event(act=1.2)])) == []


def test_bad_parameters_are_refused_by_name():
    with pytest.raises(ValueError, match="bad parameters"):
        create("earnings_drift", horizon=3)
    with pytest.raises(ValueError, match="horizon_days >= 1"):
        create("earnings_drift", horizon_days=0)
