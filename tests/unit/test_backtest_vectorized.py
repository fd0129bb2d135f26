"""The array forms used by the backtester equal the per-snapshot strategies, processor and risk analytics."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from risk import RiskPolicy
from risk.sizing import atr, ewma_daily_vol, kelly
from risk.vectorized import atr_arrays, ewma_vol_arrays, vol_allowance
from strategies import MarketSnapshot, create
from strategies.processor import targets_from_signals
from strategies.vectorized import combine, held_votes, signal_arrays
from tradebot.domain import BAR_COLUMNS, AssetClass, Direction, Instrument, Position, Symbol

SYMS = ("AAA", "BBB", "CCC")
INSTR = {Symbol(s): Instrument(Symbol(s), AssetClass.EQUITY, s, "X") for s in SYMS}
START = datetime(2024, 1, 1, tzinfo=UTC)
T = 260
CASES = {
    "sma_cross": {"fast": 5, "slow": 20, "allow_short": True},
    "ema_cross": {"fast": 4, "slow": 12, "allow_short": True},
    "rsi_reversion": {"period": 6, "oversold": 40, "exit_level": 50, "overbought": 60, "allow_short": True},
    "bollinger_reversion": {"window": 8, "k": 1.0, "exit_z": 0.2, "allow_short": True},
}


def market(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Return close, high, low (T x 3, the third symbol starting late) and the same bars as a long frame."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (T, len(SYMS))), axis=0))
    high = close * (1 + rng.uniform(0, 0.02, close.shape))
    low = close * (1 - rng.uniform(0, 0.02, close.shape))
    close[:40, 2] = high[:40, 2] = low[:40, 2] = np.nan  # a late listing: gaps must not shift the windows
    ts = pd.date_range(START, periods=T, freq="D")
    frames = []
    for j, sym in enumerate(SYMS):
        ok = ~np.isnan(close[:, j])
        frames.append(pd.DataFrame({"symbol": sym, "timeframe": "1Day", "ts": ts[ok], "open": close[ok, j],
                                    "high": high[ok, j], "low": low[ok, j], "close": close[ok, j],
                                    "volume": 1.0}))
    return close, high, low, pd.concat(frames, ignore_index=True)[list(BAR_COLUMNS)]


def snapshot_at(bars: pd.DataFrame, t: int, held: dict[str, int]) -> MarketSnapshot:
    now = START + timedelta(days=t + 1)  # a daily bar is complete one day after its stamp
    positions = {Symbol(s): Position(Symbol(s), Decimal(side), Decimal(50)) for s, side in held.items()}
    empty = pd.DataFrame(columns=["news_id", "symbol", "source", "published_at", "compound"])
    return MarketSnapshot.at(now, bars, empty, INSTR, positions)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_strategys_array_form_gives_the_per_snapshot_signals_on_every_sampled_bar(name):
    close, _, _, bars = market()
    strategy = create(name, **CASES[name])
    sig = signal_arrays(strategy, close)
    rng = np.random.default_rng(1)
    for t in [*range(0, 60), *rng.integers(60, T, 40)]:
        held_side = rng.integers(-1, 2, len(SYMS))
        held = {s: int(h) for s, h in zip(SYMS, held_side, strict=True) if h}
        expected = {s.symbol: s for s in strategy.signals(snapshot_at(bars, int(t), held))}
        active, strength = held_votes(sig, held_side, int(t))
        for j, sym in enumerate(SYMS):
            assert bool(active[j]) == (sym in expected), (name, t, sym)
            if sym in expected:
                e = expected[sym]
                signed = {Direction.LONG: 1, Direction.SHORT: -1, Direction.FLAT: 0}[e.direction] * abs(e.strength)
                assert strength[j] == pytest.approx(signed, rel=1e-9, abs=1e-12), (name, t, sym)
                assert sig.confidence == pytest.approx(e.confidence)


def test_the_array_processor_gives_targets_from_signals_weights_for_several_strategies():
    close, _, _, bars = market(5)
    names = ["sma_cross", "ema_cross", "rsi_reversion"]
    strategies = [create(n, **CASES[n]) for n in names]
    arrays = [signal_arrays(s, close) for s in strategies]
    weights = {"sma_cross": 1.0, "ema_cross": 0.5, "rsi_reversion": 2.0}
    for t in range(30, T, 7):
        snap = snapshot_at(bars, t, {})
        sigs = [x for s in strategies for x in s.signals(snap)]
        expected = {tg.symbol: tg.weight for tg in targets_from_signals(sigs, 0.25, weights=weights)}
        votes = [(a.active[t], a.strength[t], a.confidence) for a in arrays]
        got = combine(votes, 0.25, weights, names)
        for j, sym in enumerate(SYMS):
            if sym in expected:
                assert got[j] == pytest.approx(expected[sym], abs=1e-6), (t, sym)
            else:
                assert np.isnan(got[j]), (t, sym)


def test_volatility_and_atr_arrays_equal_the_risk_engines_values_at_every_sampled_bar():
    close, high, low, _ = market(7)
    policy = RiskPolicy()
    vol = ewma_vol_arrays(close, policy, bars_per_day=1.0)
    atrs = atr_arrays(high, low, close, policy.atr_period)
    ts = pd.date_range(START, periods=T, freq="D")
    for t in range(1, T, 3):
        c = pd.DataFrame(close[: t + 1], index=ts[: t + 1], columns=list(SYMS))
        h = pd.DataFrame(high[: t + 1], index=ts[: t + 1], columns=list(SYMS))
        lo = pd.DataFrame(low[: t + 1], index=ts[: t + 1], columns=list(SYMS))
        np.testing.assert_allclose(vol[t], ewma_daily_vol(c, policy).to_numpy(), rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(atrs[t], atr(h, lo, c, policy.atr_period).to_numpy(), rtol=1e-9,
                                   equal_nan=True)


def test_the_vol_allowance_equals_kelly_times_the_volatility_budget():
    policy = RiskPolicy()
    k = kelly(None, policy)
    vol = np.array([0.01, 0.02, np.nan])
    got = vol_allowance(vol, policy, k.used)
    assert got[0] == pytest.approx(policy.vol_target / 0.01 * k.used / policy.kelly_cap)
    assert got[1] == pytest.approx(policy.vol_target / 0.02 * k.used / policy.kelly_cap)
    assert np.isnan(got[2])  # unknown volatility and no fallback: entries are rejected
