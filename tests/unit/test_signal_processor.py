"""Signal processor: per-strategy weights, confidence, agreement and conflict, exits, pre-earnings cuts."""

from datetime import UTC, datetime

import pytest

from strategies.processor import Target, targets_from_signals
from tradebot.domain import Direction, Signal, Symbol

NOW = datetime(2026, 3, 2, tzinfo=UTC)
A = Symbol("AAA")


def sig(strategy: str, strength: float, confidence: float = 1.0, sym: str = "AAA", tags=(), reason="r") -> Signal:
    direction = Direction.LONG if strength > 0 else Direction.SHORT if strength < 0 else Direction.FLAT
    return Signal(strategy, Symbol(sym), NOW, direction, strength, confidence, 3, (reason,), tags=tags)


def pre(confidence: float = 1.0, sym: str = "AAA") -> Signal:
    return sig("earnings_drift", 0.0, confidence, sym, tags=("pre_earnings",), reason="earnings amc in 1 day(s)")


def one(signals, **kw) -> Target:
    [t] = targets_from_signals(signals, **kw)
    return t


@pytest.mark.parametrize(("signals", "kw", "weight"), [
    ([sig("a", 0.8)], {}, 0.2),  # one vote: strength x weight_per_unit
    ([sig("a", 0.8)], {"weight_per_unit": 0.5}, 0.4),
    ([sig("a", 0.8, 0.5), sig("b", 0.4, 1.0)], {}, pytest.approx((0.8 * 0.5 + 0.4) / 1.5 * 0.25, abs=1e-6)),
    ([sig("a", 0.8), sig("b", 0.4)], {"weights": {"a": 3.0}}, pytest.approx((0.8 * 3 + 0.4) / 4 * 0.25)),
    ([sig("a", 0.8), sig("b", 0.4)], {"weights": {"a": 0.0}}, 0.1),  # a weight of zero silences a strategy
    ([sig("a", 0.8), sig("b", 0.0)], {}, 0.1),  # a FLAT vote pulls toward zero exposure
    ([sig("a", -0.6)], {}, -0.15),
])
def test_weights_and_confidence_combine_into_one_target(signals, kw, weight):
    assert one(signals, **kw).weight == weight


def test_the_two_argument_call_keeps_working():
    [t] = targets_from_signals([sig("a", 0.8), sig("b", 0.0)], 0.5)
    assert t.weight == 0.2 and t.strategy == "a"


def test_a_strategy_is_one_voice_however_many_signals_it_sends():
    t = one([sig("a", 0.8), sig("a", 0.8), sig("a", 0.8), sig("b", 0.0)])
    assert t.weight == 0.1 and len(t.signals) == 4


@pytest.mark.parametrize(("long", "short", "scale", "weight", "reason"), [
    (0.6, -0.5, 0.0, 0.0, "conflict: long 0.600 vs short 0.500 (ratio 0.83 >= 0.5): weight x 0.0"),
    (0.6, -0.5, 0.5, pytest.approx((0.6 - 0.5) / 2 * 0.5 * 0.25), "conflict"),
    (0.9, -0.2, 0.0, pytest.approx(0.7 / 2 * 0.25), "disagreement outweighed: long 0.900 vs short 0.200"),
])
def test_opposite_votes_of_similar_weight_stand_aside_with_the_reason(long, short, scale, weight, reason):
    t = one([sig("news", long), sig("tech", short)], conflict_scale=scale)
    assert t.weight == weight
    assert any(r.startswith(reason) for r in t.reasons)


def test_conflict_ratio_is_measured_after_strategy_weights():
    t = one([sig("news", 0.6), sig("tech", -0.5)], weights={"news": 4.0})
    assert t.weight > 0 and any("outweighed" in r for r in t.reasons)


def test_agreeing_strategies_are_named_in_the_reasons():
    t = one([sig("news", 0.6), sig("earnings_drift", 0.4)])
    assert t.reasons[0].startswith("votes earnings_drift +0.40 x weight 1.00, news +0.60 x weight 1.00")
    assert "2 strategies agree" in t.reasons


def test_only_flat_exits_give_a_zero_target_naming_who_exits():
    t = one([sig("news_sentiment", 0.0, 0.5)])
    assert t.weight == 0.0 and "flat: exit from news_sentiment" in t.reasons


@pytest.mark.parametrize(("scale", "weight"), [(0.5, 0.1), (0.0, 0.0), (1.0, 0.2)])
def test_pre_earnings_flags_scale_the_weight_down_and_are_not_votes(scale, weight):
    t = one([sig("news", 0.8), pre()], pre_earnings_scale=scale)
    assert t.weight == weight and t.strategy == "news" and len(t.signals) == 2
    assert any(r.startswith("pre-earnings (earnings amc in 1 day(s))") for r in t.reasons)


def test_a_pre_earnings_flag_alone_cuts_a_held_weight_or_leaves_the_symbol_alone():
    assert targets_from_signals([pre()]) == []
    assert targets_from_signals([pre()], current_weights={A: 0.0}) == []
    t = one([pre()], current_weights={A: 0.12})
    assert t.weight == 0.06 and t.strategy == "earnings_drift" and "no strategy view" in t.reasons[0]


def test_the_lead_strategy_follows_the_weighted_vote():
    signals = [sig("news", 0.5), sig("tech", 0.6)]
    assert one(signals).strategy == "tech"
    assert one(signals, weights={"news": 2.0}).strategy == "news"


def test_targets_are_per_symbol_sorted_and_keep_every_input_signal():
    signals = [sig("a", 0.5, sym="BBB"), sig("a", 0.5), pre(sym="BBB"), sig("b", 0.0, sym="CCC")]
    out = targets_from_signals(signals)
    assert [t.symbol for t in out] == ["AAA", "BBB", "CCC"]
    assert sum(len(t.signals) for t in out) == len(signals)


def test_a_hand_built_target_still_names_its_strongest_signal():
    # The risk engine builds Targets directly in its tests; without a lead the strongest vote wins.
    t = Target(A, 0.1, (pre(), sig("a", 0.2), sig("b", 0.7, 0.5)))
    assert t.strategy == "b" and t.reasons == ()


@pytest.mark.parametrize("kw", [{"weights": {"a": -1.0}}, {"pre_earnings_scale": 1.5}, {"conflict_ratio": 0.0},
                                {"conflict_scale": -0.1}])
def test_nonsense_settings_are_refused(kw):
    with pytest.raises(ValueError):
        targets_from_signals([sig("a", 0.5)], **kw)
