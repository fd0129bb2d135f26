"""Correlation protection: matrix, clusters, correlated entries, cluster/gross/net caps, open positions."""

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from risk import MarketData, RiskClock, RiskPolicy, RiskState, evaluate
from risk.correlation import cluster_labels, correlation_matrix
from strategies.processor import Target
from tradebot.domain import AssetClass, Direction, Instrument, Portfolio, Position, RiskLimits, Signal, Symbol, Verdict

NOW = datetime(2026, 3, 2, 21, tzinfo=UTC)
RNG = np.random.default_rng(3)
N = 80
COMMON = RNG.normal(0, 0.01, N)


def path(noise: float, beta: float = 1.0) -> np.ndarray:
    """Return 100-based closes driven by a shared factor (beta) plus independent noise."""
    return 100 * np.exp(np.cumsum(beta * COMMON + RNG.normal(0, noise, N)))


CLOSE = pd.DataFrame({"AAA": path(0.001), "BBB": path(0.005), "INV": path(0.004, -1.0), "ZZZ": path(0.0, 0.0)
                      + 100 * np.exp(np.cumsum(RNG.normal(0, 0.01, N))) - 100},
                     index=pd.date_range("2025-11-01", periods=N, freq="D"))
MKT = MarketData(CLOSE)
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in CLOSE}
PRICES = {Symbol(s): Decimal("100") for s in CLOSE}
BASE = RiskPolicy(limits=RiskLimits(max_position_weight=0.2, allow_short=True), kelly_fraction=None,
                  vol_target=None, max_cluster_weight=None)


def tgt(sym: str, w: float) -> Target:
    d = Direction.LONG if w >= 0 else Direction.SHORT
    return Target(Symbol(sym), w, (Signal("t", Symbol(sym), NOW, d, w, 1.0, 3),))


def run(targets, positions=None, policy=BASE):
    cash = Decimal("100000") - 100 * sum((Decimal(q) for q in (positions or {}).values()), Decimal(0))
    pf = Portfolio(cash, {Symbol(s): Position(Symbol(s), Decimal(q), Decimal("100"))
                                   for s, q in (positions or {}).items()})
    return evaluate(targets, pf, MKT, policy, RiskState(), RiskClock(NOW, NOW.date()), "c", instruments=INSTR,
                    prices=PRICES).proposals


def test_the_matrix_equals_numpy_corrcoef_on_complete_data():
    r = np.diff(np.log(CLOSE.to_numpy()), axis=0)
    assert np.allclose(correlation_matrix(CLOSE, 200, 20), np.corrcoef(r, rowvar=False))


def test_short_or_gappy_history_is_unknown_not_zero():
    gappy = CLOSE.copy()
    gappy.iloc[:-10, 1] = np.nan
    corr = correlation_matrix(gappy, 60, 20)
    assert np.isnan(corr[1]).all() and not np.isnan(corr[0, 2])


def test_clusters_are_connected_components_above_the_threshold():
    corr = np.array([[1, .9, .1, 0], [.9, 1, .75, 0], [.1, .75, 1, 0], [0, 0, 0, 1]], dtype=float)
    assert cluster_labels(corr, 0.7).tolist() == [0, 0, 0, 3]
    assert cluster_labels(corr, 0.8).tolist() == [0, 0, 2, 3]


def test_a_correlated_second_entry_is_cut_to_its_share_with_the_numbers():
    [p] = run([tgt("BBB", 0.15)], {"AAA": "150"})
    assert p.decision.verdict is Verdict.RESIZED and p.decision.approved_qty == 50
    assert p.decision.reasons[0].startswith("correlation 0.9")
    assert p.decision.reasons[0].endswith("with AAA > 0.80 limit; size cut from 150 to 50")


def test_an_entry_beyond_the_reject_correlation_is_rejected():
    policy = RiskPolicy(limits=BASE.limits, kelly_fraction=None, vol_target=None, corr_reject=0.9)
    [p] = run([tgt("BBB", 0.1)], {"AAA": "100"}, policy)
    assert p.decision.verdict is Verdict.REJECTED and ">= 0.90 reject limit; entry rejected" in p.decision.reasons[0]


def test_a_short_in_an_inverse_twin_is_the_same_risk_but_a_long_is_a_hedge():
    [short] = run([tgt("INV", -0.15)], {"AAA": "150"})
    [long_] = run([tgt("INV", 0.15)], {"AAA": "150"})
    assert short.decision.approved_qty == 50 and "with AAA" in short.decision.reasons[0]
    assert long_.decision.verdict is Verdict.ACCEPTED


def test_an_uncorrelated_entry_is_untouched():
    [p] = run([tgt("ZZZ", 0.15)], {"AAA": "150"})
    assert p.decision.verdict is Verdict.ACCEPTED


def test_cluster_exposure_is_capped():
    policy = RiskPolicy(limits=BASE.limits, kelly_fraction=None, vol_target=None, corr_threshold=0.99,
                        corr_reject=0.995, max_cluster_weight=0.25)
    [p] = run([tgt("BBB", 0.15)], {"AAA": "150"}, policy)
    assert p.decision.approved_qty == 100
    assert p.decision.reasons[0].startswith("cluster cap 0.25 (cluster with AAA") and "from 150 to 100" in \
        p.decision.reasons[0]


@pytest.mark.parametrize(("limits", "extra", "targets", "approved", "phrase"), [
    (RiskLimits(max_position_weight=0.5, max_gross_exposure=0.6), {}, [("ZZZ", 0.4), ("AAA", 0.3)], [400, 200],
     "gross exposure cap 0.6"),
    (RiskLimits(max_position_weight=0.5, max_gross_exposure=2.0, allow_short=True), {"max_net_exposure": 0.5},
     [("ZZZ", 0.4), ("AAA", 0.3)], [400, 100], "net exposure cap 0.5"),
    (RiskLimits(max_position_weight=0.5, max_open_positions=1), {}, [("ZZZ", 0.4), ("AAA", 0.3)], [400, 0],
     "max open positions 1 reached"),
    (RiskLimits(max_position_weight=0.5), {"symbol_caps": {"ZZZ": 0.1}}, [("ZZZ", 0.4)], [100],
     "position weight cap 0.1"),
    (RiskLimits(max_position_weight=0.5), {"max_position_notional": Decimal("7000")}, [("ZZZ", 0.4)], [70],
     "position notional cap 7000"),
])
def test_portfolio_caps_table(limits, extra, targets, approved, phrase):
    policy = RiskPolicy(limits=limits, kelly_fraction=None, vol_target=None, corr_lookback=None, **extra)
    out = run([tgt(s, w) for s, w in targets], policy=policy)
    assert [p.decision.approved_qty for p in out] == approved
    assert phrase in out[-1].decision.reasons[0]
