"""The simple risk rule: caps resize, capacity rejects, exits always pass, every reason has numbers."""

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from risk import decide
from strategies.processor import Target, targets_from_signals
from tradebot.domain import (
    AssetClass,
    Direction,
    Instrument,
    Portfolio,
    Position,
    RiskLimits,
    Side,
    Signal,
    Symbol,
    Verdict,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
SYMS = [Symbol(s) for s in ("AAA", "BBB", "CCC", "DDD")]
INSTR = {s: Instrument(s, AssetClass.EQUITY, s, "X") for s in SYMS}
BTC = Symbol("BTC/USD")
INSTR[BTC] = Instrument(BTC, AssetClass.CRYPTO, "Bitcoin", "X", Decimal("0.0001"), Decimal("0.0001"))
PRICES = {**{s: Decimal("100") for s in SYMS}, BTC: Decimal("50000")}


def sig(sym, direction=Direction.LONG, strength=1.0) -> Signal:
    return Signal("t", Symbol(sym), NOW, direction, strength if direction is Direction.LONG else 0.0, 1.0, 3)


def run(targets, pf=None, limits=None):
    pf = pf or Portfolio(Decimal("100000"))
    return decide(targets, pf, PRICES, INSTR, limits or RiskLimits(max_position_weight=0.15), "c1", NOW)


def test_an_oversized_target_is_resized_to_the_position_cap_with_numbers():
    [p] = run([Target(SYMS[0], 0.25, (sig("AAA"),))])
    assert p.intent.qty == 250 and p.decision.approved_qty == 150
    assert p.decision.verdict is Verdict.RESIZED
    assert "size cut from 250 to 150" in p.decision.reasons[0]


def test_a_target_within_limits_is_accepted():
    [p] = run([Target(SYMS[0], 0.10, (sig("AAA"),))])
    assert p.decision.verdict is Verdict.ACCEPTED and p.decision.approved_qty == 100


def test_entries_beyond_max_open_positions_are_rejected():
    lim = RiskLimits(max_position_weight=0.2, max_open_positions=2)
    out = run([Target(s, 0.1, (sig(s),)) for s in SYMS], limits=lim)
    verdicts = [p.decision.verdict for p in out]
    assert verdicts.count(Verdict.REJECTED) == 2
    assert any("max open positions 2 reached" in r for p in out for r in p.decision.reasons)


def test_gross_exposure_cap_resizes_the_last_entries():
    lim = RiskLimits(max_position_weight=0.5, max_gross_exposure=0.6)
    out = run([Target(s, 0.4, (sig(s),)) for s in SYMS[:2]], limits=lim)
    assert [p.decision.approved_qty for p in out] == [400, 200]
    assert "gross exposure" in out[1].decision.reasons[0]


def test_a_flat_target_sells_the_whole_position_and_is_always_allowed():
    pf = Portfolio(Decimal("0"), {SYMS[0]: Position(SYMS[0], Decimal("30"), Decimal("90"))})
    [p] = run([Target(SYMS[0], 0.0, (sig("AAA", Direction.FLAT),))], pf=pf)
    assert p.intent.side is Side.SELL and p.decision.approved_qty == 30
    assert p.decision.verdict is Verdict.ACCEPTED


def test_crypto_sizes_in_fractional_steps():
    [p] = run([Target(BTC, 0.1, (sig("BTC/USD"),))])
    assert p.decision.approved_qty == Decimal("0.2")


def test_client_ids_differ_for_entry_and_exit_of_the_same_symbol_and_cycle():
    entry = run([Target(SYMS[0], 0.1, (sig("AAA"),))])[0].intent.client_order_id
    pf = Portfolio(Decimal("0"), {SYMS[0]: Position(SYMS[0], Decimal("30"), Decimal("90"))})
    exit_ = run([Target(SYMS[0], 0.0, (sig("AAA", Direction.FLAT),))], pf=pf)[0].intent.client_order_id
    assert entry != exit_


def test_signal_processor_confidence_weights_and_flat_means_zero():
    a = Signal("a", Symbol("AAA"), NOW, Direction.LONG, 0.8, 1.0, 3)
    b = Signal("b", Symbol("AAA"), NOW, Direction.FLAT, 0.0, 1.0, 3)
    [t] = targets_from_signals([a, b], weight_per_unit=0.5)
    assert t.weight == 0.2 and t.strategy == "a"


@settings(max_examples=200, deadline=None)
@given(weights=st.lists(st.floats(-1, 1), min_size=1, max_size=4),
       cash=st.decimals(min_value=0, max_value=10**6, places=2),
       max_w=st.floats(0.01, 1), gross=st.floats(0.05, 2), max_open=st.integers(1, 4))
def test_approved_sizes_never_break_a_cap(weights, cash, max_w, gross, max_open):
    lim = RiskLimits(max_position_weight=max_w, max_gross_exposure=gross, max_open_positions=max_open)
    pf = Portfolio(cash)
    out = decide([Target(SYMS[i], w, (sig(SYMS[i]),)) for i, w in enumerate(weights)], pf, PRICES, INSTR, lim,
                 "c", NOW)
    equity = cash
    bought = [p for p in out if p.intent.side is Side.BUY and p.decision.approved_qty > 0]
    assert all(p.decision.approved_qty <= p.intent.qty for p in out)
    assert all(p.intent.side is Side.BUY for p in out)  # nothing held, shorting off: no sells
    assert len(bought) <= max_open
    notional = [p.decision.approved_qty * PRICES[p.intent.symbol] for p in bought]
    assert all(n <= Decimal(str(max_w)) * equity for n in notional)
    assert sum(notional, Decimal(0)) <= min(Decimal(str(gross)) * equity, cash)


# The full engine: one entry point over market history, policy and persisted state.

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from risk import MarketData, RiskClock, RiskPolicy, RiskState, evaluate  # noqa: E402
from risk.stops import initial_levels  # noqa: E402

IDX = pd.date_range("2025-11-01", periods=80, freq="D")
_RNG = np.random.default_rng(5)
_F = _RNG.normal(0, 0.01, 80)
_CLOSE = pd.DataFrame({"AAA": 100 * np.exp(np.cumsum(_F)),
                       "BBB": 100 * np.exp(np.cumsum(_F + _RNG.normal(0, 0.005, 80))),
                       "CCC": 100 * np.exp(np.cumsum(_RNG.normal(0, 0.01, 80)))}, index=IDX)
MKT = MarketData(_CLOSE, _CLOSE * 1.01, _CLOSE * 0.99)


def _evaluate(targets, pf, policy=None, **kw):
    return evaluate(targets, pf, MKT, policy or RiskPolicy(), kw.pop("state", RiskState()), RiskClock(NOW, NOW.date()),
                    "c7", instruments=INSTR, prices=PRICES, **kw)


def test_evaluate_explains_every_cut_of_a_correlated_entry_with_its_numbers():
    pf = Portfolio(Decimal("90000"), {SYMS[0]: Position(SYMS[0], Decimal("100"), Decimal("100"))})
    res = _evaluate([Target(SYMS[1], 0.25, (sig("BBB"),))], pf, strategy_stats={"t": [0.02, -0.01] * 20})
    [p] = res.proposals
    assert p.intent.qty == 250 and p.decision.verdict is Verdict.RESIZED
    text = " | ".join(p.decision.reasons)
    assert "Kelly for t: win rate 0.500" in text and "vol target 0.25% / daily vol" in text
    assert "Kelly x vol allowance" in text and "correlation 0.9" in text and "with AAA > 0.80 limit" in text
    assert res.state.trades_today == 1 and res.equity == Decimal("100000")


def test_an_accepted_entry_comes_with_planned_stops_and_open_positions_keep_theirs():
    pf = Portfolio(Decimal("90000"), {SYMS[0]: Position(SYMS[0], Decimal("100"), Decimal("100"))})
    kept = initial_levels(SYMS[0], Direction.LONG, Decimal("100"), 1.0, NOW, RiskPolicy(),
                          datetime(2026, 1, 19, tzinfo=UTC))
    res = _evaluate([Target(SYMS[2], 0.05, (sig("CCC"),))], pf, stops={SYMS[0]: kept})
    assert res.proposals[0].decision.approved
    assert set(res.stops) == {SYMS[0], SYMS[2]} and res.stops[SYMS[0]].initial_stop == kept.initial_stop
    planned = res.stops[SYMS[2]]
    assert planned.entry_price == Decimal("100") and planned.stop < planned.entry_price < planned.take_profit


def test_a_flip_from_long_to_short_is_an_always_allowed_exit_then_a_judged_entry():
    policy = RiskPolicy(limits=RiskLimits(allow_short=True), kelly_fraction=None, vol_target=None)
    pf = Portfolio(Decimal("95000"), {SYMS[2]: Position(SYMS[2], Decimal("50"), Decimal("100"))})
    short = Signal("t", SYMS[2], NOW, Direction.SHORT, -1.0, 1.0, 3)
    res = _evaluate([Target(SYMS[2], -0.1, (short,))], pf, policy, state=RiskState(halted=True, day=NOW.date(),
                                                                                   halt_reason="daily loss x"))
    exit_, entry = res.proposals
    assert exit_.intent.qty == 50 and exit_.decision.approved and exit_.intent.side is Side.SELL
    assert entry.intent.qty == 100 and not entry.decision.approved and "daily loss x" in entry.decision.reasons[0]


def test_protective_exits_come_first_in_submission_order():
    pf = Portfolio(Decimal("90000"), {SYMS[0]: Position(SYMS[0], Decimal("100"), Decimal("200"))})
    stop = initial_levels(SYMS[0], Direction.LONG, Decimal("200"), 1.0, NOW, RiskPolicy(),
                          datetime(2026, 1, 1, tzinfo=UTC))
    res = _evaluate([Target(SYMS[2], 0.05, (sig("CCC"),))], pf, stops={SYMS[0]: stop})
    assert [p.intent.symbol for p in res.all_proposals] == [SYMS[0], SYMS[2]]
    assert res.all_proposals[0].intent.client_order_id != res.all_proposals[1].intent.client_order_id
