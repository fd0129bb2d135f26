"""Benchmark the bar quality gate: 500 symbols x 390 one-minute bars, GX gate vs pandas masks alone.

Run: .venv/bin/python bench/bench_quality.py [--symbols 500] [--bars 390] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from tradebot.domain.market import BAR_COLUMNS
from tradebot.quality import validate_bars
from tradebot.quality.bars import _normalize, bar_row_masks
from tradebot.quality.gx_runner import warm_up


def synthetic_bars(symbols: int, bars: int, seed: int = 7) -> pd.DataFrame:
    """Return a clean frame of one-minute bars for one session, symbols x bars rows."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-07-01 13:30", periods=bars, freq="1min", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 8e-4, (symbols, bars)), axis=1))
    open_ = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    wiggle = rng.uniform(0, 5e-4, (2, symbols, bars))
    return pd.DataFrame({
        "symbol": np.repeat([f"S{i:04d}" for i in range(symbols)], bars),
        "timeframe": "1Min",
        "ts": np.tile(ts, symbols),
        "open": open_.ravel(),
        "high": (np.maximum(open_, close) * (1 + wiggle[0])).ravel(),
        "low": (np.minimum(open_, close) * (1 - wiggle[1])).ravel(),
        "close": close.ravel(),
        "volume": rng.uniform(0, 1e4, symbols * bars),
    }, columns=list(BAR_COLUMNS))


def corrupt(df: pd.DataFrame, fraction: float, seed: int = 11) -> pd.DataFrame:
    """Return a copy with `fraction` of rows given a NaN close or a negative open."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    rows = rng.choice(len(df), int(len(df) * fraction), replace=False)
    half = len(rows) // 2
    out.loc[rows[:half], "close"] = np.nan
    out.loc[rows[half:], "open"] = -1.0
    return out


def best_of(repeat: int, fn) -> float:
    """Return the fastest of `repeat` timed calls (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Time the gate and the bare masks on clean and 1 %-corrupted frames and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--bars", type=int, default=390)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    warm_up()  # GX import + context: a once-per-process cost, reported apart from the per-batch cost
    print(f"GX import + ephemeral context: {time.perf_counter() - start:.2f} s (once per process)")

    clean = synthetic_bars(args.symbols, args.bars)
    validate_bars(clean.head(1000), batch="warm")  # builds the cached suite
    for label, frame in (("clean", clean), ("1% corrupt", corrupt(clean, 0.01))):
        rows = len(frame)
        gate = best_of(args.repeat, lambda f=frame: validate_bars(f, batch="bench"))
        masks = best_of(args.repeat, lambda f=frame: bar_row_masks(_normalize(f)))
        outcome = validate_bars(frame, batch="bench")
        print(f"{label:>10}: {rows} rows, quarantined {len(outcome.quarantined)}")
        print(f"{'':>10}  gate (GX + masks): {gate:.3f} s = {rows / gate:,.0f} rows/s")
        print(f"{'':>10}  pandas masks only: {masks:.3f} s = {rows / masks:,.0f} rows/s")
        print(f"{'':>10}  ratio gate/masks : {gate / masks:.1f}x")


if __name__ == "__main__":
    main()
