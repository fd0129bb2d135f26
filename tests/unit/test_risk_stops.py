"""Stops: ATR stop and target, a trailing stop that only ratchets, time stops, protective exits in the engine."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from risk import MarketData, RiskClock, RiskPolicy, RiskState, StopLevels, evaluate
from risk.stops import check_exit, initial_levels, ratchet
from strategies.processor import Target
from tradebot.domain import AssetClass, Direction, Instrument, Portfolio, Position, Side, Signal, Symbol, Verdict

NOW = datetime(2026, 3, 2, 21, tzinfo=UTC)
AAA = Symbol("AAA")
POLICY = RiskPolicy(stop_atr=2.0, take_profit_atr=4.0, trail_atr=3.0, max_holding_days=10)


@pytest.mark.parametrize(("direction", "stop", "tp"), [
    (Direction.LONG, "96", "108"),
    (Direction.SHORT, "104", "92"),
])
def test_initial_stop_and_target_are_atr_multiples_on_either_side(direction, stop, tp):
    lv = initial_levels(AAA, direction, Decimal("100"), 2.0, NOW, POLICY)
    assert lv.stop == Decimal(stop) and lv.take_profit == Decimal(tp) and lv.trail_distance == Decimal("6")
    assert lv.initial_stop == lv.stop and lv.trail_anchor == Decimal("100") and lv.max_holding_days == 10


@pytest.mark.parametrize("atr_value", [0.0, float("nan"), None])
def test_a_flat_or_unknown_atr_falls_back_to_the_minimum_stop_distance(atr_value):
    lv = initial_levels(AAA, Direction.LONG, Decimal("100"), atr_value, NOW, POLICY)
    assert lv.stop == Decimal("99.5") and lv.take_profit is None


def test_stops_can_be_switched_off():
    assert initial_levels(AAA, Direction.LONG, Decimal("100"), 2.0, NOW, RiskPolicy(stop_atr=None)) is None


@pytest.mark.parametrize(("direction", "bars", "stops"), [
    (Direction.LONG, [(103, 99), (110, 104), (105, 101)], ["97", "104", "104"]),  # 96 -> 103-6, 110-6, stays
    (Direction.SHORT, [(101, 97), (96, 90), (99, 95)], ["103", "96", "96"]),
])
def test_a_trailing_stop_follows_the_best_price_and_never_gives_back(direction, bars, stops):
    lv = initial_levels(AAA, direction, Decimal("100"), 2.0, NOW, POLICY)
    seen = []
    for high, low in bars:
        lv = ratchet(lv, high, low)
        seen.append(lv.stop)
    assert seen == [Decimal(s) for s in stops]


@pytest.mark.parametrize(("high", "low", "days", "leg"), [
    (101, 95.5, 1, "stop_loss"),
    (109, 95, 1, "stop_loss"),  # both levels inside one bar: assume the stop came first
    (108, 99, 1, "take_profit"),
    (101, 99, 10, "time_stop"),
    (101, 99, 9, None),
])
def test_exit_checks_for_a_long(high, low, days, leg):
    lv = initial_levels(AAA, Direction.LONG, Decimal("100"), 2.0, NOW - timedelta(days=days), POLICY)
    hit = check_exit(lv, high, low, NOW)
    assert (hit[0] if hit else None) == leg


def test_a_ratcheted_stop_hit_is_reported_as_a_trailing_stop():
    lv = ratchet(initial_levels(AAA, Direction.LONG, Decimal("100"), 2.0, NOW, POLICY), 110, 104)
    leg, reason = check_exit(lv, 106, 103.5, NOW)
    assert leg == "trailing_stop" and reason == "trailing-stop hit: bar low 103.5 <= stop 104"


def test_stop_levels_round_trip_through_json():
    lv = ratchet(initial_levels(AAA, Direction.SHORT, Decimal("100"), 1.7, NOW, POLICY), 99, 95, NOW)
    d = json.loads(json.dumps(lv.to_dict()))
    assert StopLevels.from_dict(d) == lv and d["stop"] == str(lv.stop) and d["direction"] == "short"


def _market(lows: list[float]) -> MarketData:
    idx = pd.date_range("2026-01-01", periods=len(lows), freq="D")
    low = pd.DataFrame({"AAA": lows}, index=idx)
    return MarketData(low + 1, low + 2, low)


def _evaluate(mkt, stops, state=RiskState(), qty="10", targets=()):
    pf = Portfolio(Decimal("10000"), {AAA: Position(AAA, Decimal(qty), Decimal("100"))})
    inst = {AAA: Instrument(AAA, AssetClass.EQUITY, "A", "X")}
    return evaluate(list(targets), pf, mkt, POLICY, state, RiskClock(NOW, NOW.date()), "c9", instruments=inst,
                    stops=stops)


def test_a_stop_hit_on_the_latest_bar_becomes_a_protective_exit_even_under_the_kill_switch():
    lv = initial_levels(AAA, Direction.LONG, Decimal("100"), 2.0, NOW, POLICY)
    mkt = _market([100.0] * 29 + [95.0])
    buy_more = Target(AAA, 0.5, (Signal("news", AAA, NOW, Direction.LONG, 1.0, 1.0, 3),))
    res = _evaluate(mkt, {AAA: lv}, RiskState(kill_switch=True, kill_reason="ops"), targets=[buy_more])
    [ex] = res.exits
    assert ex.intent.side is Side.SELL and ex.intent.qty == 10 and ex.decision.verdict is Verdict.ACCEPTED
    assert ex.decision.reasons[0] == "stop-loss hit: bar low 95 <= stop 96"
    assert ex.target.strategy == "risk" and res.proposals == []  # the exit owns the symbol this cycle
    assert res.stops[AAA].last_bar == datetime(2026, 1, 30, tzinfo=UTC)


def test_a_bar_already_applied_is_not_checked_again_and_ratchets_only_once():
    lv = initial_levels(AAA, Direction.LONG, Decimal("100"), 2.0, NOW, POLICY)
    mkt = _market([100.0] * 29 + [108.0])  # high 110: trail to 104
    first = _evaluate(mkt, {AAA: lv})
    assert first.stops[AAA].stop == Decimal("104") and first.exits[0].intent.reason.startswith("take-profit")
    again = _evaluate(mkt, {AAA: replace(first.stops[AAA], take_profit=None)})
    assert again.exits == [] and again.stops[AAA].stop == Decimal("104")


def test_a_position_without_levels_gets_fresh_ones_anchored_at_its_average_price():
    res = _evaluate(_market(list(np.full(30, 99.0))), {})
    assert res.stops[AAA].entry_price == Decimal("100") and res.stops[AAA].stop == Decimal("96")
    assert res.exits == []  # the bar it was created on is not replayed against it


def test_a_time_stop_fires_without_a_new_bar():
    lv = replace(initial_levels(AAA, Direction.LONG, Decimal("100"), 2.0, NOW - timedelta(days=11), POLICY),
                 last_bar=datetime(2026, 1, 30, tzinfo=UTC))
    res = _evaluate(_market([100.0] * 30), {AAA: lv})
    assert [e.intent.client_order_id for e in res.exits] and res.exits[0].decision.reasons[0].startswith("time stop")


def test_a_short_position_exits_with_a_buy():
    lv = initial_levels(AAA, Direction.SHORT, Decimal("100"), 2.0, NOW, POLICY)
    res = _evaluate(_market([100.0] * 29 + [103.0]), {AAA: lv}, qty="-10")  # high 105 >= stop 104
    assert res.exits[0].intent.side is Side.BUY and res.exits[0].intent.qty == 10
