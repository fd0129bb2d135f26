"""Properties of the risk engine that must hold for any input hypothesis can find."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import MarketData, RiskClock, RiskPolicy, RiskState, evaluate, kelly
from risk.correlation import correlation_matrix
from risk.sizing import ewma_daily_vol
from risk.stops import initial_levels, ratchet
from strategies.processor import Target
from tradebot.domain import AssetClass, Direction, Instrument, Portfolio, Position, RiskLimits, Signal, Symbol

NOW = datetime(2026, 3, 2, 21, tzinfo=UTC)
SYMS = [Symbol(s) for s in ("AAA", "BBB", "CCC", "DDD")]
INSTR = {s: Instrument(s, AssetClass.EQUITY, s, "X") for s in SYMS}
IDX = pd.date_range("2025-11-01", periods=70, freq="D")
CLOCK = RiskClock(NOW, NOW.date())


def tgt(sym: Symbol, w: float) -> Target:
    return Target(sym, w, (Signal("s", sym, NOW, Direction.LONG, 1.0, 1.0, 3),))


def closes(seed: int, vols: list[float], rho: float = 0.0) -> pd.DataFrame:
    """Return closes for SYMS[:len(vols)] whose returns share a factor with weight rho."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 1, len(IDX))
    cols = {}
    for sym, vol in zip(SYMS, vols, strict=False):
        z = rho * common + math.sqrt(1 - rho * rho) * rng.normal(0, 1, len(IDX))
        cols[sym] = 100 * np.exp(np.cumsum(vol * z))
    return pd.DataFrame(cols, index=IDX)


settings.register_profile("risk", max_examples=150, deadline=None)
settings.load_profile("risk")


@given(weights=st.lists(st.floats(0, 1), min_size=1, max_size=4), cash=st.integers(0, 10**6),
       max_w=st.floats(0.01, 1), gross=st.floats(0.05, 2), max_open=st.integers(1, 4),
       vols=st.lists(st.floats(0.002, 0.08), min_size=4, max_size=4), vol_target=st.floats(0.001, 0.05),
       trades=st.lists(st.floats(-0.1, 0.1), max_size=40), seed=st.integers(0, 1000))
def test_an_approved_size_never_exceeds_any_of_its_caps(weights, cash, max_w, gross, max_open, vols, vol_target,
                                                         trades, seed):
    policy = RiskPolicy(limits=RiskLimits(max_position_weight=max_w, max_gross_exposure=gross,
                                          max_open_positions=max_open), vol_target=vol_target,
                        max_consecutive_losses=None, corr_lookback=None)
    close = closes(seed, vols)
    prices = {s: Decimal("100") for s in SYMS}
    res = evaluate([tgt(SYMS[i], w) for i, w in enumerate(weights)], Portfolio(Decimal(cash)), MarketData(close),
                   policy, RiskState(), CLOCK, "c", instruments=INSTR, strategy_stats={"s": trades}, prices=prices)
    equity = Decimal(cash)
    sigma = ewma_daily_vol(close, policy)
    k = kelly(trades, policy)
    bought = [p for p in res.proposals if p.decision.approved]
    assert len(bought) <= max_open
    for p in res.proposals:
        assert p.decision.approved_qty <= p.intent.qty
        notional = p.decision.approved_qty * prices[p.intent.symbol]
        assert notional <= Decimal(repr(max_w)) * equity
        allowance = vol_target / sigma[p.intent.symbol] * k.used / policy.kelly_cap
        assert float(notional) <= allowance * float(equity) * (1 + 1e-9)
    total = sum((p.decision.approved_qty * 100 for p in bought), Decimal(0))
    assert total <= min(Decimal(repr(gross)) * equity, Decimal(cash))


blocked_states = st.one_of(
    st.builds(RiskState, halted=st.just(True), halt_reason=st.just("daily loss")),
    st.builds(RiskState, kill_switch=st.just(True)),
    st.builds(RiskState, cooldown_until=st.integers(1, 10**6).map(lambda s: NOW + timedelta(seconds=s))),
)


@given(state=blocked_states, weights=st.lists(st.floats(-1, 1), min_size=1, max_size=4),
       held=st.lists(st.integers(0, 300), min_size=4, max_size=4))
def test_no_entry_is_approved_while_halted_paused_or_killed(state, weights, held):
    policy = RiskPolicy(limits=RiskLimits(allow_short=True), kelly_fraction=None, vol_target=None, corr_lookback=None)
    pf = Portfolio(Decimal("100000"), {s: Position(s, Decimal(q), Decimal(100)) for s, q in zip(SYMS, held,
                                                                                                  strict=True) if q})
    state = RiskState(day=NOW.date(), halted=state.halted, halt_reason=state.halt_reason,
                      kill_switch=state.kill_switch, cooldown_until=state.cooldown_until)
    res = evaluate([tgt(SYMS[i], w) for i, w in enumerate(weights)], pf, MarketData.empty(), policy, state, CLOCK,
                   "c", instruments=INSTR, prices=dict.fromkeys(SYMS, Decimal(100)))
    for p in res.proposals:
        grows = abs(pf.qty(p.intent.symbol) + (p.intent.qty if p.intent.side == "buy" else -p.intent.qty)) > \
            abs(pf.qty(p.intent.symbol))
        if grows or state.kill_switch:
            assert not p.decision.approved
    assert res.state.trades_today == 0


prices_ = st.decimals(min_value="0.0001", max_value="100000", places=4)


@given(entry=prices_, atr_value=st.one_of(st.none(), st.floats(0, 1e6), st.just(float("nan"))),
       long=st.booleans(), k=st.floats(0.1, 10), floor=st.floats(0.0001, 0.5))
def test_a_stop_is_always_on_the_losing_side_of_the_entry(entry, atr_value, long, k, floor):
    policy = RiskPolicy(stop_atr=k, min_stop_pct=floor)
    lv = initial_levels(SYMS[0], Direction.LONG if long else Direction.SHORT, entry, atr_value, NOW, policy)
    if long:
        assert Decimal(0) < lv.stop < entry
    else:
        assert lv.stop > entry
    if lv.take_profit is not None:
        assert (lv.take_profit > entry) if long else (Decimal(0) < lv.take_profit < entry)


@given(entry=prices_, atr_value=st.floats(0, 1000), long=st.booleans(),
       bars=st.lists(st.tuples(st.floats(0.01, 2e5), st.floats(0, 1)), max_size=30))
def test_a_trailing_stop_never_moves_against_the_position(entry, atr_value, long, bars):
    lv = initial_levels(SYMS[0], Direction.LONG if long else Direction.SHORT, entry, atr_value, NOW, RiskPolicy())
    for high, frac in bars:
        nxt = ratchet(lv, high, high * frac)
        assert (nxt.stop >= lv.stop) if long else (nxt.stop <= lv.stop)
        assert (nxt.trail_anchor >= lv.trail_anchor) if long else (nxt.trail_anchor <= lv.trail_anchor)
        lv = nxt


@given(rho=st.floats(-0.99, 0.999), seed=st.integers(0, 1000), held=st.integers(1, 400), w=st.floats(0.01, 0.3),
       scale=st.floats(0, 1), threshold=st.floats(0.3, 0.95))
def test_a_correlated_second_entry_never_exceeds_its_allowance(rho, seed, held, w, scale, threshold):
    policy = RiskPolicy(limits=RiskLimits(max_position_weight=0.3), kelly_fraction=None, vol_target=None,
                        corr_threshold=threshold, corr_reject=max(threshold, 0.97), corr_scale=scale,
                        max_cluster_weight=None)
    close = closes(seed, [0.01, 0.01], rho)
    prices = dict.fromkeys(SYMS, Decimal(100))
    equity = Decimal(100000)

    def approved(pf: Portfolio) -> Decimal:
        [p] = evaluate([tgt(SYMS[1], w)], pf, MarketData(close), policy, RiskState(), CLOCK, "c", instruments=INSTR,
                       prices=prices).proposals
        return p.decision.approved_qty

    alone = approved(Portfolio(equity))
    with_first = approved(Portfolio(equity - held * 100, {SYMS[0]: Position(SYMS[0], Decimal(held), Decimal(100))}))
    corr = float(correlation_matrix(close, policy.corr_lookback, policy.corr_min_obs)[0, 1])
    assert with_first <= alone
    if corr >= policy.corr_reject:
        assert with_first == 0
    elif corr > threshold:
        assert with_first <= (alone * Decimal(repr(scale))).quantize(Decimal("1e-9"))
