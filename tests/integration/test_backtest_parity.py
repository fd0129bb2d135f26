"""Parity with vectorbt: the reference rule (SMA 20/50 long-only, all-in, 0.1% per side, fill at the close)
gives the same trades and final equity as vectorbt's Portfolio.from_signals, on synthetic and real data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED_DATA
from tradebot.backtest.data import from_arrays, load_bars
from tradebot.backtest.engine import BacktestSpec, run

vbt = pytest.importorskip("vectorbt")

REL = 1e-6
SPEC = BacktestSpec(strategies=(("sma_cross", {"fast": 20, "slow": 50}),), fill="close", fee=0.001, cash=10_000.0)
PRICES = SHARED_DATA / "prices"
REAL_FILES = sorted(p for p in PRICES.rglob("*.csv")) if PRICES.is_dir() else []


def vectorbt_reference(close: pd.DataFrame, cash_per_column: float):
    """Return vectorbt's portfolio for the same rule: long while SMA20 > SMA50, out otherwise."""
    fast = vbt.MA.run(close, 20).ma.to_numpy()
    slow = vbt.MA.run(close, 50).ma.to_numpy()
    entries, exits = fast > slow, fast <= slow  # NaN compares False on both sides: no signal yet
    return vbt.Portfolio.from_signals(close, entries, exits, init_cash=cash_per_column, fees=0.001)


def exact_reference(close: pd.Series, cash: float):
    """Return vectorbt's portfolio with SMA signals computed exactly (prices in whole 1e-8 units, integer sums).

    Real tick-sized prices make the two averages exactly equal on some bars; every float rolling mean
    (vectorbt's, pandas', ours) rounds such a tie its own way, so the reference decides it exactly: a tie
    is not "above".
    """
    units = np.round(close.to_numpy() * 1e8).astype(np.int64)
    cs = np.concatenate([[0], np.cumsum(units)])
    n = len(units)
    above = np.zeros(n, dtype=bool)
    valid = np.arange(n) >= 49
    i = np.arange(49, n)
    s20, s50 = cs[i + 1] - cs[i + 1 - 20], cs[i + 1] - cs[i + 1 - 50]
    above[49:] = s20 * 50 > s50 * 20
    return vbt.Portfolio.from_signals(close, above, valid & ~above, init_cash=cash, fees=0.001)


def assert_same(ours, pf, columns):
    final = np.atleast_1d(pf.final_value().to_numpy())
    count = np.atleast_1d(pf.trades.count().to_numpy())
    ours_count = np.bincount(ours.trades.column, minlength=len(columns))
    np.testing.assert_allclose(ours.column_equity[-1], final, rtol=REL)
    np.testing.assert_array_equal(ours_count, count)
    assert ours.equity[-1] == pytest.approx(final.sum(), rel=REL)
    # The whole curve agrees too, not just its end.
    np.testing.assert_allclose(ours.column_equity, np.atleast_2d(pf.value().to_numpy().T).T, rtol=REL)


@pytest.mark.parametrize("seed,n", [(0, 1), (1, 1), (2, 5), (3, 20)])
def test_synthetic_random_walks_match_vectorbt_trade_for_trade(seed, n):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (3000, n)), axis=0))
    index = pd.date_range("2024-01-01", periods=3000, freq="1min")
    cols = [f"S{i}" for i in range(n)]
    ours = run(from_arrays(close, index, cols), SPEC)
    pf = vectorbt_reference(pd.DataFrame(close, index=index, columns=cols), SPEC.cash / n)
    assert_same(ours, pf, cols)
    assert len(ours.trades) > 10 * n  # the rule trades: the comparison has teeth


def test_entry_and_exit_prices_of_every_trade_match_vectorbts_records():
    rng = np.random.default_rng(11)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, 2000)))
    index = pd.date_range("2020-01-01", periods=2000, freq="D")
    ours = run(from_arrays(close, index, ["X"]), SPEC)
    rec = vectorbt_reference(pd.Series(close, index=index, name="X"), SPEC.cash).trades.records_readable
    np.testing.assert_allclose(ours.trades.entry_price, rec["Avg Entry Price"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.trades.qty, rec["Size"].to_numpy(), rtol=REL)
    np.testing.assert_allclose(ours.trades.pnl, rec["PnL"].to_numpy(), rtol=REL, atol=1e-6)


@pytest.mark.skipif(not REAL_FILES, reason=f"no real price files at {PRICES} (../shared/data is absent)")
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_price_files_match_vectorbt(path: Path):
    data = load_bars(path)
    ours = run(data, SPEC)
    closes = {}
    for j, key in enumerate(data.keys):
        ok = ~np.isnan(data.close[:, j])
        closes[key] = pd.Series(data.close[ok, j], index=data.index[ok])
    for j, key in enumerate(data.keys):
        pf = exact_reference(closes[key], SPEC.cash / len(data.keys))
        assert ours.column_equity[-1, j] == pytest.approx(float(pf.final_value()), rel=REL), key
        assert int(np.sum(ours.trades.column == j)) == int(pf.trades.count()), key
