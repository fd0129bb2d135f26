"""Benchmark the backtester against vectorbt and backtesting.py on the same seeded one-minute data.

Rule for all three: SMA(20/50) long-only, all-in, 0.1% fee per side, filled at the signal bar's close.
Datasets: 1 symbol x 1M bars and 100 symbols x 100k bars, timezone-naive index (a timezone-aware one
makes vectorbt ~80x slower). Each engine computes its own averages and simulates; times are the best
of --repeat runs after one warm-up (numba compiles vectorbt on first use). backtesting.py steps bar by
bar in Python, so it runs on a --bt-bars slice of one symbol and its bars/s is quoted per that slice.
The full pipeline (strategies + processor + risk sizing/stops/limits + next-open paper fills) runs on
the 100-symbol set.

Run: .venv/bin/python bench/bench_backtest.py [--repeat 3] [--bt-bars 20000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from tradebot.backtest.data import from_arrays
from tradebot.backtest.engine import BacktestSpec, run

warnings.filterwarnings("ignore")
os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py draws a progress bar per run
REFERENCE = BacktestSpec(strategies=(("sma_cross", {"fast": 20, "slow": 50}),), fill="close", fee=0.001,
                         cash=100_000.0)
PIPELINE = BacktestSpec(strategies=(("sma_cross", {"fast": 20, "slow": 50}),), fill="next_open", fee=0.001,
                        cash=100_000.0, sizing="risk", slippage_bps=5.0)


def market(symbols: int, bars: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                           pd.DatetimeIndex]:
    """Return seeded one-minute OHLC (bars x symbols) and a timezone-naive index."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0008, (bars, symbols)), axis=0))
    opn = close * np.exp(rng.normal(0, 0.0002, close.shape))
    high = np.maximum(opn, close) * (1 + rng.uniform(0, 0.0005, close.shape))
    low = np.minimum(opn, close) * (1 - rng.uniform(0, 0.0005, close.shape))
    return opn, high, low, close, pd.date_range("2024-01-01", periods=bars, freq="1min")


def best(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up: page faults, numba compilation
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def ours(data):
    return lambda: run(data, REFERENCE)


def vectorbt_run(close: pd.DataFrame):
    import vectorbt as vbt

    def go():
        fast = vbt.MA.run(close, 20).ma.to_numpy()
        slow = vbt.MA.run(close, 50).ma.to_numpy()
        pf = vbt.Portfolio.from_signals(close, fast > slow, fast <= slow, init_cash=100_000.0 / close.shape[1],
                                        fees=0.001)
        return float(pf.final_value().sum()), int(pf.trades.count().sum())

    return go


def backtesting_run(df: pd.DataFrame):
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover  # noqa: F401  (imported to mirror the library's idiom)

    def sma(x, n):
        return pd.Series(x).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, 20)
            self.slow = self.I(sma, self.data.Close, 50)

        def next(self):
            if self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy()
            elif self.position:
                self.position.close()

    def go():
        bt = Backtest(df, SmaCross, cash=100_000, commission=0.001, trade_on_close=True, finalize_trades=True)
        stats = bt.run()
        return float(stats["Equity Final [$]"]), int(stats["# Trades"])

    return go


def exact_equity(result, last_close: float) -> float:
    """Replay one series' trades with exact fractions: the all-in rule's equity free of rounding."""
    from fractions import Fraction

    cash, fee = Fraction(REFERENCE.cash), Fraction(REFERENCE.fee).limit_denominator(10**9)
    t = result.trades
    for entry, exit_, row in zip(t.entry_price, t.exit_price, t.exit_idx, strict=True):
        qty = cash / (Fraction(entry) * (1 + fee))
        cash = qty * Fraction(exit_) * (1 - fee) if row >= 0 else qty * Fraction(last_close)
    return float(cash)


def report(label: str, bars: int, seconds: float) -> float:
    rate = bars / seconds
    print(f"  {label:<44} {bars:>11,} bars {seconds:8.3f} s {rate / 1e6:9.2f} M bars/s")
    return rate


def main() -> None:
    """Measure every engine on both datasets and print bars/s and the ratios."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bt-bars", type=int, default=20_000)
    ap.add_argument("--quick", action="store_true", help="1/10 of the data (a smoke run)")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    rows = []
    for symbols, bars in ((1, 1_000_000 // scale), (100, 100_000 // scale)):
        opn, high, low, close, index = market(symbols, bars, seed=42 + symbols)
        keys = [f"S{i:03d}" for i in range(symbols)]
        data = from_arrays(close, index, keys, open_=opn, high=high, low=low)
        total = symbols * bars
        print(f"== {symbols} symbol(s) x {bars:,} one-minute bars")
        t_ours, res = best(ours(data), args.repeat)
        r_ours = report("tradebot sma_cross (all-in, fill close)", total, t_ours)
        t_vbt, (vbt_eq, vbt_n) = best(vectorbt_run(pd.DataFrame(close, index=index, columns=keys)), args.repeat)
        r_vbt = report("vectorbt 1.2 MA + Portfolio.from_signals", total, t_vbt)
        ours_eq, ours_n = float(res.equity[-1]), len(res.trades)
        print(f"  parity: final equity {ours_eq:.6g} vs {vbt_eq:.6g} (rel diff "
              f"{abs(ours_eq / vbt_eq - 1):.1e}), trades {ours_n} vs {vbt_n}")
        if symbols == 1:
            exact = exact_equity(res, close[-1, 0])
            print(f"  exact rational-arithmetic replay of the same trades: ours off by {abs(ours_eq / exact - 1):.1e}, "
                  f"vectorbt by {abs(vbt_eq / exact - 1):.1e} (a driftless walk with 0.2% round trips leaves tiny "
                  "equity, where vectorbt's absolute tolerances show)")
        n_bt = min(args.bt_bars, bars)
        df = pd.DataFrame({"Open": opn[:n_bt, 0], "High": high[:n_bt, 0], "Low": low[:n_bt, 0],
                           "Close": close[:n_bt, 0], "Volume": 1.0}, index=index[:n_bt])
        t_bt, _ = best(backtesting_run(df), 1)
        r_bt = report(f"backtesting.py 0.6.6 (1 symbol x {n_bt:,} bars slice)", n_bt, t_bt)
        line = {"set": f"{symbols}x{bars}", "ours": r_ours, "vectorbt": r_vbt, "backtesting": r_bt}
        if symbols == 100:
            t_pipe, pres = best(lambda d=data: run(d, PIPELINE), max(1, args.repeat - 2))
            line["pipeline"] = report("tradebot full pipeline (risk sizing, next open)", total, t_pipe)
            print(f"  pipeline: {len(pres.trades):,} round trips, final equity {pres.equity[-1]:,.2f}")
        rows.append(line)
        print(f"  ratio ours / vectorbt        {r_ours / r_vbt:6.2f}x  (goal >= 1.5x)")
        print(f"  ratio ours / backtesting.py  {r_ours / r_bt:6.1f}x")
    print("== summary (M bars/s)")
    for line in rows:
        extra = f"  pipeline {line['pipeline'] / 1e6:.2f} (goal >= 1.00)" if "pipeline" in line else ""
        print(f"  {line['set']:<12} ours {line['ours'] / 1e6:7.2f}  vectorbt {line['vectorbt'] / 1e6:7.2f}  "
              f"backtesting.py {line['backtesting'] / 1e6:7.3f}  ours/vectorbt {line['ours'] / line['vectorbt']:5.2f}x"
              f"{extra}")


if __name__ == "__main__":
    main()
