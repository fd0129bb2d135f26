"""Sizing: fractional Kelly with shrinkage, EWMA volatility target, ATR, and asset-class quantity rules."""

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from risk import MarketData, RiskClock, RiskPolicy, RiskState, TradeStats, evaluate, kelly
from risk.sizing import atr, ewma_daily_vol, floor_to_step
from strategies.processor import Target
from tradebot.domain import AssetClass, Direction, Instrument, Portfolio, RiskLimits, Signal, Symbol, Verdict

NOW = datetime(2026, 3, 2, 21, tzinfo=UTC)
IDX = pd.date_range("2025-11-01", periods=60, freq="D")


def alternating(sym: str, start: float, ret: float) -> pd.Series:
    """Return closes whose log returns alternate +ret/-ret: realized daily vol is exactly ret."""
    steps = np.where(np.arange(len(IDX)) % 2 == 0, ret, -ret)
    return pd.Series(start * np.exp(np.cumsum(steps)), index=IDX, name=sym)


def market(**cols: pd.Series) -> MarketData:
    close = pd.DataFrame(cols)
    return MarketData(close, close * 1.01, close * 0.99)


def target(sym: str, w: float, strategy: str = "news") -> Target:
    return Target(Symbol(sym), w, (Signal(strategy, Symbol(sym), NOW, Direction.LONG, 1.0, 1.0, 3),))


def run(targets, mkt, policy, cash="100000", instruments=None, stats=None):
    inst = instruments or {t.symbol: Instrument(t.symbol, AssetClass.EQUITY, t.symbol, "X") for t in targets}
    return evaluate(targets, Portfolio(Decimal(cash)), mkt, policy, RiskState(), RiskClock(NOW, NOW.date()), "c",
                    instruments=inst, strategy_stats=stats).proposals


@pytest.mark.parametrize(("stats", "win_rate", "payoff", "full"), [
    (None, 0.5, 1.5, 0.5 - 0.5 / 1.5),  # no record: the prior alone
    (TradeStats(20, 0, 0.02, 0.0), 0.75, 1.5, 0.75 - 0.25 / 1.5),  # 20 wins vs a 20-trade prior
    (TradeStats(10, 10, 0.03, 0.01), 0.5, (10 * 3 + 20 * 1.5) / 30, None),  # payoff shrunk by min(wins, losses)
])
def test_kelly_shrinks_win_rate_and_payoff_toward_the_prior(stats, win_rate, payoff, full):
    k = kelly(stats, RiskPolicy())
    assert k.win_rate == pytest.approx(win_rate) and k.payoff == pytest.approx(payoff)
    if full is not None:
        assert k.full == pytest.approx(full)
    assert k.used == pytest.approx(min(max(0.5 * k.full, 0), 0.25))


def test_few_lucky_trades_move_kelly_less_than_many():
    few = kelly([0.05, 0.04, 0.06], RiskPolicy())
    many = kelly([0.05, 0.04, 0.06] * 100 + [-0.02] * 30, RiskPolicy())
    assert RiskPolicy().prior_win_rate < few.win_rate < many.win_rate


def test_kelly_is_capped_and_a_list_of_returns_equals_its_counts():
    returns = [0.10] * 200 + [-0.01] * 5
    assert kelly(returns, RiskPolicy()).used == 0.25
    assert kelly(returns, RiskPolicy()) == kelly(TradeStats.from_returns(returns), RiskPolicy())


def test_a_strategy_without_edge_gets_no_entry_and_the_reason_says_so():
    loser = TradeStats(wins=5, losses=30, avg_win=0.01, avg_loss=0.02)  # counts: no streak, so no cooldown
    [p] = run([target("AAA", 0.1)], market(AAA=alternating("AAA", 100, 0.01)), RiskPolicy(), stats={"news": loser})
    assert p.decision.verdict is Verdict.REJECTED
    assert any(r.startswith("no edge: Kelly -") for r in p.decision.reasons)


def test_ewma_volatility_matches_a_known_daily_move_and_scales_with_bars_per_day():
    close = pd.DataFrame({"A": alternating("A", 100, 0.02), "B": alternating("B", 10, 0.005)})
    vol = ewma_daily_vol(close, RiskPolicy())
    assert vol["A"] == pytest.approx(0.02) and vol["B"] == pytest.approx(0.005)
    assert ewma_daily_vol(close, RiskPolicy(), bars_per_day=4)["A"] == pytest.approx(0.04)
    assert np.isnan(ewma_daily_vol(close.iloc[:5], RiskPolicy())["A"])  # too few returns


def test_atr_of_bars_with_a_constant_range_and_no_gaps_is_that_range():
    close = pd.DataFrame({"A": np.full(40, 100.0)}, index=IDX[:40])
    assert atr(close + 1, close - 1, close, 14)["A"] == pytest.approx(2.0)


def test_volatility_target_sizes_each_position_to_the_same_expected_daily_risk():
    policy = RiskPolicy(limits=RiskLimits(max_position_weight=1.0), kelly_fraction=None, vol_target=0.005,
                        corr_lookback=None, max_cluster_weight=None)
    mkt = market(CALM=alternating("CALM", 100, 0.005), WILD=alternating("WILD", 100, 0.02))
    out = run([target("CALM", 0.5), target("WILD", 0.5)], mkt, policy, cash="1000000")
    risk = {p.intent.symbol: float(p.decision.approved_qty * p.intent.reference_price) * vol
            for p, vol in zip(out, (0.005, 0.02), strict=True)}
    # CALM asks for 0.5 and is allowed 1.0, so it is not cut; WILD is cut to 0.25 of equity.
    assert out[0].decision.verdict is Verdict.ACCEPTED and out[1].decision.verdict is Verdict.RESIZED
    assert risk["WILD"] == pytest.approx(0.005 * 1_000_000, rel=0.01)
    assert "vol target 0.50% / daily vol 2.00%" in out[1].decision.reasons[0]


def test_unknown_volatility_rejects_unless_a_fallback_is_set():
    short = market(AAA=alternating("AAA", 100, 0.01).iloc[:5])
    [p] = run([target("AAA", 0.1)], short, RiskPolicy())
    assert p.decision.verdict is Verdict.REJECTED and "daily volatility unknown" in p.decision.reasons[-1]
    [p] = run([target("AAA", 0.1)], short, RiskPolicy(fallback_daily_vol=0.01))
    assert p.decision.approved


@pytest.mark.parametrize(("fractional", "asset", "step", "min_qty", "price", "weight", "expect"), [
    (False, AssetClass.EQUITY, "1", "1", 333, 0.01, "3"),  # whole shares
    (True, AssetClass.EQUITY, "1", "1", 333, 0.01, "3.0030"),  # Alpaca fractional shares
    (False, AssetClass.CRYPTO, "0.0001", "0.0001", 60000, 0.01, "0.0166"),  # Binance step
    (False, AssetClass.CRYPTO, "0.0001", "0.0001", 60000, 0.00005, "0"),  # 5.00 < 10 minimum notional
])
def test_quantities_follow_asset_class_rules(fractional, asset, step, min_qty, price, weight, expect):
    sym = Symbol("X")
    inst = {sym: Instrument(sym, asset, "x", "X", Decimal(min_qty), Decimal(step))}
    policy = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, fractional_equities=fractional)
    prices = {sym: Decimal(price)}
    out = evaluate([target("X", weight)], Portfolio(Decimal("100000")), MarketData.empty(), policy, RiskState(),
                   RiskClock(NOW, NOW.date()), "c", instruments=inst, prices=prices).proposals
    approved = out[0].decision.approved_qty if out else Decimal(0)
    assert approved == Decimal(expect)
    if expect == "0" and out:
        assert "below minimum 10" in out[0].decision.reasons[-1]


def test_min_and_max_notional_bound_an_order():
    policy = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, max_order_notional=Decimal("5000"))
    [p] = run([target("AAA", 0.1)], MarketData(pd.DataFrame({"AAA": np.full(30, 100.0)}, index=IDX[:30])), policy)
    assert p.decision.approved_qty == 50 and "order notional cap 5000" in p.decision.reasons[0]


def test_floor_to_step_rounds_down_and_refuses_a_zero_step():
    assert floor_to_step(Decimal("1.23456"), Decimal("0.001")) == Decimal("1.234")
    with pytest.raises(ValueError, match="qty step must be positive"):
        floor_to_step(Decimal(1), Decimal(0))


def test_a_bad_policy_value_is_named():
    with pytest.raises(ValueError, match="kelly_cap=2"):
        RiskPolicy(kelly_cap=2)
