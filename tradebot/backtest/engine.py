"""The vectorized backtest: strategies as arrays on a simulated clock, all-in reference fills or the full pipeline.

Time rule: a bar's close is known when the bar completes; a decision made then fills either at that
same close (`fill="close"`, the reference rule vectorbt's from_signals uses) or at the next bar's open
(`fill="next_open"`, what the paper broker does). Nothing is read from a later row.

`sizing="allin"` is the reference rule: each series gets an equal share of the cash and goes all-in
long while its strategy says long, flat otherwise, paying `fee` of the notional per side. The
arithmetic is a product of per-bar growth factors, vectorized over time and series at once.
`sizing="risk"` runs the full pipeline (tradebot/backtest/pipeline.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from risk import RiskPolicy
from strategies import create
from strategies.news import NewsSentimentStrategy
from strategies.technical import SmaCross
from strategies.vectorized import SignalArrays, signal_arrays, sma_long
from tradebot.backtest.data import BarArrays

Fill = Literal["close", "next_open"]
FILLS = ("close", "next_open")
SIZINGS = ("allin", "risk")


@dataclass(frozen=True)
class BacktestSpec:
    """What to run: strategies with their parameters, fill rule, costs and starting cash."""

    strategies: tuple[tuple[str, Mapping[str, Any]], ...] = (("sma_cross", {}),)
    fill: Fill = "next_open"
    fee: float = 0.001  # fraction of notional per side
    cash: float = 100_000.0
    sizing: str = "allin"
    slippage_bps: float = 0.0  # paper-style: buys fill higher, sells lower (pipeline sizing)
    weights: Mapping[str, float] = field(default_factory=dict)
    weight_per_unit: float = 0.25
    policy: RiskPolicy | None = None  # risk sizing; None: the default RiskPolicy

    def __post_init__(self) -> None:
        if self.fill not in FILLS:
            raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {self.fill!r}")
        if self.sizing not in SIZINGS:
            raise ValueError(f"sizing must be one of {', '.join(SIZINGS)}, got {self.sizing!r}")
        if not 0 <= self.fee < 0.5:
            raise ValueError(f"fee is a fraction of notional per side in [0, 0.5), got {self.fee}")
        if not self.cash > 0:
            raise ValueError(f"cash must be positive, got {self.cash}")
        if not self.strategies:
            raise ValueError("name at least one strategy")

    @property
    def label(self) -> str:
        """Return the strategies and parameters as one short text."""
        return " + ".join(f"{n}({', '.join(f'{k}={v}' for k, v in p.items())})" for n, p in self.strategies)


@dataclass(frozen=True)
class Trades:
    """Round trips (an open position at the end counts as one, as vectorbt counts it)."""

    column: np.ndarray  # int
    entry_idx: np.ndarray  # row of the entry fill
    exit_idx: np.ndarray  # row of the exit fill, -1 while open
    entry_price: np.ndarray
    exit_price: np.ndarray  # the last close for open trades
    qty: np.ndarray
    pnl: np.ndarray  # after fees
    ret: np.ndarray  # pnl over the money put in
    strategy: np.ndarray  # index into BacktestResult.strategy_names

    def __len__(self) -> int:
        return len(self.column)

    @classmethod
    def concat(cls, parts: list[Trades]) -> Trades:
        """Join trade lists."""
        if not parts:
            e = np.array([], dtype=float)
            i = np.array([], dtype=np.int64)
            return cls(i, i, i, e, e, e, e, e, i)
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


@dataclass(frozen=True)
class BacktestResult:
    """Equity per series and in total, positions and the trade list of one backtest."""

    spec: BacktestSpec
    data: BarArrays
    equity: np.ndarray  # (T,) total
    column_equity: np.ndarray  # (T, N): each series' sleeve (all-in) or its marked position plus share of cash
    position_value: np.ndarray  # (T, N) signed market value held after each row's fills
    traded_notional: float
    fees_paid: float
    trades: Trades
    strategy_names: tuple[str, ...]
    seconds: float
    notes: tuple[str, ...] = ()


def build_signals(spec: BacktestSpec, data: BarArrays, news: pd.DataFrame | None = None) -> list[SignalArrays]:
    """Create each named strategy and compute its signals as arrays (news strategies see news by published_at)."""
    return [_arrays(create(name, **dict(params)), data, news) for name, params in spec.strategies]


def _arrays(strategy: object, data: BarArrays, news: pd.DataFrame | None) -> SignalArrays:
    if isinstance(strategy, NewsSentimentStrategy):
        return signal_arrays(strategy, data.close, now=data.decision_times(), keys=data.symbols, news=news)
    return signal_arrays(strategy, data.close)


def run(data: BarArrays, spec: BacktestSpec, news: pd.DataFrame | None = None) -> BacktestResult:
    """Run the backtest described by spec over data; news (SENTIMENT_COLUMNS) feeds news strategies."""
    t0 = time.perf_counter()
    if spec.sizing == "risk":
        from tradebot.backtest.pipeline import run_pipeline

        return run_pipeline(data, spec, t0, news)
    if len(spec.strategies) != 1:
        raise ValueError("all-in sizing runs one strategy; use sizing 'risk' to combine several")
    name, params = spec.strategies[0]
    strategy = create(name, **dict(params))
    if isinstance(strategy, SmaCross):  # the reference rule's hot path: only the long mask is needed
        return run_allin(data, spec, sma_long(data.close, strategy), strategy.name, t0)
    sig = _arrays(strategy, data, news)
    return run_allin(data, spec, long_state(sig), sig.name, t0)


def long_state(sig: SignalArrays) -> np.ndarray:
    """Return where the all-in rule holds a long after each row: set by a LONG vote, reset by FLAT/SHORT or exit."""
    go = sig.active & (sig.direction > 0)
    stop = (sig.active & (sig.direction <= 0))
    if sig.exit_long is not None:
        stop |= sig.exit_long
    if sig.exit_long is None:
        return go  # stateless strategies vote on every bar with enough history
    rows = np.arange(go.shape[0])[:, None]
    last_event = np.maximum.accumulate(np.where(go | stop, rows, -1), axis=0)
    return np.take_along_axis(go, np.maximum(last_event, 0), axis=0) & (last_event >= 0)


def run_allin(data: BarArrays, spec: BacktestSpec, want: np.ndarray, name: str, t0: float) -> BacktestResult:
    """Simulate the all-in rule (long where want, else flat) for every series at once."""
    close, opn = data.close, data.open
    T, N = close.shape
    sleeve = spec.cash / N
    gaps = np.isnan(close).any()
    if not gaps:
        eq, held, parts = _allin_block(close, opn, want, spec.fee, spec.fill, sleeve)
        trades = _trades(parts, np.arange(N))
    else:
        # Series with gaps are simulated on their own bars; the equity holds its value across the gaps.
        eq = np.full((T, N), np.nan)
        held = np.zeros((T, N), dtype=bool)
        chunks = []
        for j in range(N):
            rows = np.flatnonzero(~np.isnan(close[:, j]))
            if len(rows) == 0:
                eq[:, j] = sleeve
                continue
            e, h, p = _allin_block(close[rows, j:j + 1], opn[rows, j:j + 1], want[rows, j:j + 1], spec.fee,
                                   spec.fill, sleeve)
            eq[rows, j], held[rows, j] = e[:, 0], h[:, 0]
            chunks.append(_trades(p, np.array([j]), rows))
        eq = _ffill(eq, sleeve)
        trades = Trades.concat(chunks)
    value = eq * held
    notional = float(np.sum(np.abs(trades.qty * trades.entry_price))
                     + np.sum(np.abs(trades.qty * trades.exit_price)[trades.exit_idx >= 0]))
    return BacktestResult(spec, data, eq.sum(axis=1), eq, value, notional, notional * spec.fee, trades,
                          (name,), time.perf_counter() - t0)


def _ffill(a: np.ndarray, first: float) -> np.ndarray:
    rows = np.arange(a.shape[0])[:, None]
    idx = np.maximum.accumulate(np.where(np.isnan(a), -1, rows), axis=0)
    out = np.take_along_axis(a, np.maximum(idx, 0), axis=0)
    return np.where(idx >= 0, out, first)


def _allin_block(close: np.ndarray, opn: np.ndarray, want: np.ndarray, fee: float, fill: str,
                 cash: float) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Return equity (T x n), the held mask and entry/exit rows for gap-free columns."""
    growth = np.ones(close.shape)
    if fill == "close":
        held = want  # filled at the signal bar's close
    else:
        held = np.zeros_like(want)
        held[1:] = want[:-1]  # decided at a close, filled at the next bar's open
    prev, cur = held[:-1], held[1:]
    entry = np.empty_like(held)
    entry[0] = held[0]
    np.greater(cur, prev, out=entry[1:])  # True > False: flat, then held
    exit_ = np.zeros_like(held)
    np.less(cur, prev, out=exit_[1:])
    if fill == "close":
        np.divide(close[1:], close[:-1], out=growth[1:], where=prev)
        entry_px = exit_px = close
    else:
        np.divide(close[1:], close[:-1], out=growth[1:], where=cur & prev)
        np.divide(close, opn, out=growth, where=entry)  # bought at the open, marked at the close
        np.divide(opn[1:], close[:-1], out=growth[1:], where=exit_[1:])  # sold at the open
        entry_px = exit_px = opn
    np.multiply(growth, 1.0 / (1.0 + fee), out=growth, where=entry)
    np.multiply(growth, 1.0 - fee, out=growth, where=exit_)
    eq = np.cumprod(growth, axis=0, out=growth)
    eq *= cash
    return eq, held, {"entry": entry, "exit": exit_, "entry_px": entry_px, "exit_px": exit_px, "eq": eq,
                      "close": close, "fee": np.array(fee), "cash": np.array(cash)}


def _trades(p: dict[str, np.ndarray], columns: np.ndarray, rows: np.ndarray | None = None) -> Trades:
    """Pair entry and exit rows per column into round trips."""
    entry, exit_, eq = p["entry"], p["exit"], p["eq"]
    fee, cash = float(p["fee"]), float(p["cash"])
    er, ec = np.nonzero(entry.T)  # column-major: trades of a column in time order
    xr, xc = np.nonzero(exit_.T)
    # Every exit follows its entry in the same column; the last entry of a column may still be open.
    n_entries = np.bincount(er, minlength=entry.shape[1])
    n_exits = np.bincount(xr, minlength=entry.shape[1])
    closed = np.concatenate([np.arange(k) < m for k, m in zip(n_entries, n_exits, strict=True)]) \
        if len(er) else np.zeros(0, dtype=bool)
    exit_rows = np.full(len(er), -1)
    exit_rows[closed] = xc
    col, erow = er, ec
    before = np.where(erow > 0, eq[np.maximum(erow - 1, 0), col], cash)
    last = eq.shape[0] - 1
    after = np.where(exit_rows >= 0, eq[np.where(exit_rows >= 0, exit_rows, last), col], eq[last, col])
    entry_price = p["entry_px"][erow, col]
    exit_price = np.where(exit_rows >= 0, p["exit_px"][np.maximum(exit_rows, 0), col], p["close"][last, col])
    qty = before / (entry_price * (1.0 + fee))
    pnl = after - before
    to_row = (lambda r: r) if rows is None else (lambda r: np.where(r >= 0, rows[np.maximum(r, 0)], -1))
    return Trades(columns[col], to_row(erow), to_row(exit_rows), entry_price, exit_price, qty, pnl, pnl / before,
                  np.zeros(len(col), dtype=np.int64))
