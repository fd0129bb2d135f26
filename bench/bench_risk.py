"""Benchmark one risk cycle over 500 symbols (500 x 500 correlation update included) vs bare numpy corrcoef.

Run: .venv/bin/python bench/bench_risk.py [--symbols 500] [--bars 250] [--held 50] [--repeat 7]
On a small, busy machine multi-threaded BLAS can dominate both figures; OPENBLAS_NUM_THREADS=1 shows the code.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from risk import MarketData, RiskClock, RiskPolicy, RiskState, evaluate
from risk.stops import initial_levels
from strategies.processor import Target
from tradebot.domain import AssetClass, Direction, Instrument, Portfolio, Position, RiskLimits, Signal, Symbol

NOW = datetime(2026, 3, 2, 21, tzinfo=UTC)


def synthetic_market(symbols: int, bars: int, seed: int = 7) -> MarketData:
    """Return daily closes/highs/lows for symbols driven by 10 sector factors plus noise."""
    rng = np.random.default_rng(seed)
    sector = rng.integers(0, 10, symbols)
    factors = rng.normal(0, 0.01, (bars, 10))
    r = factors[:, sector] + rng.normal(0, 0.012, (bars, symbols))
    close = 100 * np.exp(np.cumsum(r, axis=0))
    idx = pd.date_range("2025-03-01", periods=bars, freq="D")
    cols = [f"S{i:04d}" for i in range(symbols)]
    wiggle = rng.uniform(0, 0.01, (2, bars, symbols))
    return MarketData(pd.DataFrame(close, idx, cols), pd.DataFrame(close * (1 + wiggle[0]), idx, cols),
                      pd.DataFrame(close * (1 - wiggle[1]), idx, cols))


def main() -> None:
    """Time evaluate() per cycle and np.corrcoef on the same returns; print both and the ratio."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--bars", type=int, default=250)
    ap.add_argument("--held", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    market = synthetic_market(args.symbols, args.bars)
    syms = [Symbol(c) for c in market.close.columns]
    instruments = {s: Instrument(s, AssetClass.EQUITY, s, "X") for s in syms}
    policy = RiskPolicy(limits=RiskLimits(max_position_weight=0.05, max_gross_exposure=1.5,
                                          max_open_positions=args.symbols), max_cluster_weight=0.5)
    last = market.close.iloc[-1]
    prices = {s: Decimal(repr(round(float(last[s]), 4))) for s in syms}
    held = syms[:args.held]
    pf = Portfolio(Decimal("1000000"), {s: Position(s, Decimal(10), prices[s]) for s in held})
    levels = {s: initial_levels(s, Direction.LONG, prices[s], 2.0, NOW, policy, datetime(2025, 1, 1, tzinfo=UTC))
              for s in held}
    stops = {s: lv for s, lv in levels.items() if lv is not None}
    rng = np.random.default_rng(1)
    targets = [Target(s, float(rng.uniform(0.001, 0.01)), (Signal("bench", s, NOW, Direction.LONG, 1.0, 1.0, 3),))
               for s in syms]
    stats = {"bench": list(rng.normal(0.004, 0.02, 200))}

    def cycle() -> int:
        res = evaluate(targets, pf, market, policy, RiskState(), RiskClock(NOW, NOW.date()), "bench",
                       instruments=instruments, strategy_stats=stats, stops=stops, prices=prices)
        return len(res.all_proposals)

    n = cycle()  # warm-up (imports, first allocations)
    risk_ms = statistics.median(_timed(cycle) for _ in range(args.repeat))
    window = market.close.to_numpy()[-(policy.corr_lookback or 60) - 1:]
    returns = np.diff(np.log(window), axis=0)
    np.corrcoef(returns, rowvar=False)
    corr_ms = statistics.median(_timed(lambda: np.corrcoef(returns, rowvar=False)) for _ in range(args.repeat * 5))
    print(f"risk cycle: {args.symbols} symbols, {args.bars} bars, {args.held} held, {n} proposals")
    print(f"  evaluate() median of {args.repeat}: {risk_ms:8.2f} ms per cycle")
    print(f"  np.corrcoef {returns.shape[1]}x{returns.shape[1]} on {returns.shape[0]} returns: {corr_ms:8.2f} ms")
    print(f"  ratio evaluate / corrcoef: {risk_ms / corr_ms:.1f}x")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    main()
