"""The backtest engine: fills at the close or the next open, worked by hand; nothing is used before it is known."""

import numpy as np
import pandas as pd
import pytest

from tradebot.backtest.data import from_arrays, from_frame
from tradebot.backtest.engine import BacktestSpec, run
from tradebot.domain import BAR_COLUMNS

FEE = 0.01


def tiny(close, opn=None):
    """Return a one-symbol series where SMA(1) vs SMA(2) says long exactly when the close rose."""
    close = np.asarray(close, dtype=float)
    idx = pd.date_range("2024-01-01", periods=len(close), freq="D")
    return from_arrays(close, idx, ["X"], open_=None if opn is None else np.asarray(opn, dtype=float),
                       timeframe="1Day")


def spec(fill, **kw):
    return BacktestSpec(strategies=(("sma_cross", {"fast": 1, "slow": 2}),), fill=fill, fee=FEE, cash=1000.0, **kw)


def test_fill_close_buys_and_sells_at_the_signal_bars_close_paying_the_fee_each_side():
    # Long on bar 1 (close rose 10 -> 11), out on bar 3 (12 -> 9): bought at 11, sold at 9.
    r = run(tiny([10, 11, 12, 9, 8]), spec("close"))
    qty = 1000 / (11 * (1 + FEE))
    cash = qty * 9 * (1 - FEE)
    assert r.equity[-1] == pytest.approx(cash)
    assert r.equity[2] == pytest.approx(qty * 12)  # marked at the close while held
    assert len(r.trades) == 1
    assert r.trades.entry_idx[0] == 1 and r.trades.exit_idx[0] == 3
    assert r.trades.entry_price[0] == 11 and r.trades.exit_price[0] == 9
    assert r.trades.pnl[0] == pytest.approx(cash - 1000)


def test_fill_next_open_trades_at_the_following_bars_open():
    opens = [10, 10.5, 11.5, 12.5, 8.5]
    r = run(tiny([10, 11, 12, 9, 8], opens), spec("next_open"))
    qty = 1000 / (11.5 * (1 + FEE))  # signal at bar 1's close, bought at bar 2's open
    assert r.equity[1] == pytest.approx(1000)  # nothing happens on the signal bar itself
    assert r.equity[2] == pytest.approx(qty * 12)
    assert r.equity[-1] == pytest.approx(qty * 8.5 * (1 - FEE))  # signal at bar 3, sold at bar 4's open
    assert r.trades.entry_idx[0] == 2 and r.trades.exit_idx[0] == 4


def test_an_open_position_at_the_end_counts_as_one_trade_marked_at_the_last_close():
    r = run(tiny([10, 11, 12, 13]), spec("close"))
    assert len(r.trades) == 1
    assert r.trades.exit_idx[0] == -1
    assert r.equity[-1] == pytest.approx(1000 / (11 * (1 + FEE)) * 13)


def test_cash_is_split_equally_across_series_and_each_series_is_simulated_on_its_own_bars():
    frame = pd.DataFrame({
        "symbol": ["A"] * 4 + ["B"] * 3, "timeframe": "1Day",
        "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04",
                              "2024-01-02", "2024-01-04", "2024-01-05"], utc=True),
        "open": 1.0, "high": 1.0, "low": 1.0, "close": [10, 11, 12, 9, 20, 22, 21], "volume": 1.0,
    })[list(BAR_COLUMNS)]
    data = from_frame(frame)
    assert data.shape == (5, 2) and data.bars == 7
    r = run(data, spec("close"))
    a = 500 / (11 * (1 + FEE)) * 9 * (1 - FEE)
    b = 500 / (22 * (1 + FEE)) * 21 * (1 - FEE)  # B's bars skip Jan 3: its average runs over its own bars
    assert r.column_equity[-1, 0] == pytest.approx(a)
    assert r.column_equity[-1, 1] == pytest.approx(b)
    assert r.column_equity[2, 1] == pytest.approx(500)  # no B bar on Jan 3: its sleeve holds its value, flat
    assert r.equity[-1] == pytest.approx(a + b)


@pytest.mark.parametrize("sizing", ["allin", "risk"])
@pytest.mark.parametrize("fill", ["close", "next_open"])
def test_changing_bars_after_t_changes_nothing_up_to_t(sizing, fill):
    rng = np.random.default_rng(4)
    T, N = 400, 3
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (T, N)), axis=0))
    opn = close * np.exp(rng.normal(0, 0.005, (T, N)))
    high, low = np.maximum(close, opn) * 1.01, np.minimum(close, opn) * 0.99
    idx = pd.date_range("2023-01-01", periods=T, freq="D")
    keys = ["AAA", "BBB", "CCC"]
    s = BacktestSpec(strategies=(("sma_cross", {"fast": 5, "slow": 20}),), fill=fill, sizing=sizing,
                     cash=100_000.0)
    base = run(from_arrays(close, idx, keys, opn, high, low, "1Day"), s)
    assert len(base.trades) > 5
    cut = 250
    late = rng.uniform(0.5, 1.5, (T - cut - 1, N))
    tampered = [a.copy() for a in (close, opn, high, low)]
    for a in tampered:
        a[cut + 1:] *= late
    other = run(from_arrays(*tampered[:1], idx, keys, *tampered[1:], "1Day"), s)
    np.testing.assert_allclose(other.equity[:cut + 1], base.equity[:cut + 1], rtol=1e-12)
    np.testing.assert_allclose(other.position_value[:cut + 1], base.position_value[:cut + 1], rtol=1e-12)
    assert not np.allclose(other.equity[cut + 1:], base.equity[cut + 1:])  # the tampering did bite


def test_bad_spec_values_are_refused_with_the_value_named():
    with pytest.raises(ValueError, match="fill must be one of close, next_open"):
        BacktestSpec(fill="tomorrow")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cash must be positive"):
        BacktestSpec(cash=0)
    with pytest.raises(ValueError, match="need 1 <= fast < slow"):
        run(tiny([1, 2, 3]), BacktestSpec(strategies=(("sma_cross", {"fast": 5, "slow": 2}),)))
