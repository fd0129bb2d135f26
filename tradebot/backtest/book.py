"""The simulated account of the vectorized pipeline and its paper-style fills: cash, positions, round trips."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from risk import kelly
from tradebot.backtest.engine import BacktestResult, Trades


@dataclass
class Book:
    """The simulated account: cash, positions, protective levels and open round trips, one slot per symbol."""

    n: int
    cash: float
    qty: np.ndarray = field(init=False)
    avg: np.ndarray = field(init=False)
    stop: np.ndarray = field(init=False)
    tp: np.ndarray = field(init=False)
    trail: np.ndarray = field(init=False)
    anchor: np.ndarray = field(init=False)
    opened: np.ndarray = field(init=False)
    level_row: np.ndarray = field(init=False)
    owner: np.ndarray = field(init=False)
    entry_row: np.ndarray = field(init=False)
    entry_px: np.ndarray = field(init=False)
    flows: np.ndarray = field(init=False)
    invested: np.ndarray = field(init=False)
    peak_qty: np.ndarray = field(init=False)
    done: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    notional: float = 0.0
    fees: float = 0.0

    def __post_init__(self) -> None:
        z = np.zeros(self.n)
        self.qty, self.avg, self.flows, self.invested, self.peak_qty = z.copy(), z.copy(), z.copy(), z.copy(), z.copy()
        self.stop, self.tp, self.trail, self.anchor, self.entry_px = (np.full(self.n, np.nan) for _ in range(5))
        self.opened = np.zeros(self.n, dtype=np.int64)
        self.level_row = np.full(self.n, -1, dtype=np.int64)
        self.owner = np.zeros(self.n, dtype=np.int64)
        self.entry_row = np.full(self.n, -1, dtype=np.int64)


class Fills:
    """Paper-broker fills for the simulation: slippage against us, fees on notional, buys limited by cash."""

    book: Book
    spec: Any
    data: Any
    policy: Any
    marks: np.ndarray
    now: np.ndarray
    names: tuple[str, ...]
    N: int
    slip: float
    pending: np.ndarray
    pending_owner: np.ndarray
    returns: dict[int, list[float]]
    unseen: list[tuple[int, float]]
    kelly_used: np.ndarray | None
    equity: np.ndarray
    value: np.ndarray
    has: np.ndarray

    def _fill_pending(self, t: int) -> None:
        ready = np.flatnonzero((self.pending != 0) & self.has[t])
        if len(ready):
            self._fill(t, ready, self.pending, self.pending_owner, self.data.open[t])
            self.pending[ready] = 0.0

    def _fill(self, t: int, idx: np.ndarray, orders: np.ndarray, owners: np.ndarray, price: np.ndarray) -> None:
        b, fee = self.book, self.spec.fee
        dq = orders[idx]
        sells = dq < 0
        fill_px = price[idx] * np.where(sells, 1 - self.slip, 1 + self.slip)
        cost = np.abs(dq) * fill_px * fee
        # Sells settle first; a buy that costs more than the cash left is rejected, as the paper broker does.
        buys = np.flatnonzero(~sells)
        if len(buys):
            need = dq[buys] * fill_px[buys] + cost[buys]
            cash_after_sells = b.cash + float((-dq[sells] * fill_px[sells] - cost[sells]).sum())
            ok = np.cumsum(need) <= cash_after_sells
            if not ok.all():
                keep = np.ones(len(idx), dtype=bool)
                keep[buys[~ok]] = False
                idx, dq, fill_px, cost = idx[keep], dq[keep], fill_px[keep], cost[keep]
        if not len(idx):
            return
        before = b.qty[idx]
        after = before + dq
        closing = (before != 0) & ((after == 0) | (np.sign(after) != np.sign(before)))
        if closing.any():
            c = idx[closing]
            part = -before[closing]  # the quantity that closes the old position
            share = np.abs(part / dq[closing])
            flows = b.flows[c] - part * fill_px[closing] - cost[closing] * share
            self._close(c, t, fill_px[closing], flows, b.invested[c])
        opening = (after != 0) & ((before == 0) | closing)
        grow = (before != 0) & ~closing & (np.abs(after) > np.abs(before))
        if opening.any():
            o = idx[opening]
            rest = after[opening]
            b.entry_row[o], b.entry_px[o], b.owner[o] = t, fill_px[opening], owners[o]
            share = np.abs(rest / dq[opening])
            b.flows[o] = -rest * fill_px[opening] - cost[opening] * share
            b.invested[o] = np.abs(rest) * fill_px[opening] + cost[opening] * share
            b.avg[o] = fill_px[opening]
            b.peak_qty[o] = np.abs(rest)
        keep = ~closing & ~opening
        k = idx[keep]
        b.flows[k] += -dq[keep] * fill_px[keep] - cost[keep]
        g = idx[grow]
        if len(g):
            b.invested[g] += np.abs(dq[grow]) * fill_px[grow] + cost[grow]
            b.avg[g] = (before[grow] * b.avg[g] + dq[grow] * fill_px[grow]) / after[grow]
        b.qty[idx] = after
        b.peak_qty[idx] = np.maximum(b.peak_qty[idx], np.abs(after))
        flat = idx[after == 0]
        b.level_row[flat], b.stop[flat], b.tp[flat], b.avg[flat] = -1, np.nan, np.nan, 0.0
        b.cash += float((-dq * fill_px - cost).sum())
        b.notional += float((np.abs(dq) * fill_px).sum())
        b.fees += float(cost.sum())

    def _close(self, cols: np.ndarray, t: int, px: np.ndarray, pnl: np.ndarray, invested: np.ndarray) -> None:
        b = self.book
        with np.errstate(divide="ignore", invalid="ignore"):
            ret = np.where(invested > 0, pnl / invested, 0.0)
        b.done.append((cols.copy(), b.entry_row[cols].copy(), np.full(len(cols), t), b.entry_px[cols].copy(),
                       px.copy(), b.peak_qty[cols].copy(), pnl.copy(), ret, b.owner[cols].copy()))
        pol = self.policy
        for r, o in zip(ret.tolist(), b.owner[cols].tolist(), strict=True):
            self.returns[o].append(r)
            self.unseen.append((o, r))
        if self.kelly_used is not None:
            for o in set(b.owner[cols].tolist()):
                self.kelly_used[o] = kelly(self.returns[o], pol).used

    def result(self, seconds: float) -> BacktestResult:
        """Return the run's equity, positions and round trips (open ones marked at the last close)."""
        b = self.book
        open_ = np.flatnonzero(b.qty != 0)
        parts = list(b.done)
        if len(open_):
            last = self.marks[-1, open_]
            pnl = b.flows[open_] + b.qty[open_] * last
            with np.errstate(divide="ignore", invalid="ignore"):
                ret = np.where(b.invested[open_] > 0, pnl / b.invested[open_], 0.0)
            parts.append((open_, b.entry_row[open_], np.full(len(open_), -1), b.entry_px[open_], last,
                          b.peak_qty[open_], pnl, ret, b.owner[open_]))
        trades = Trades.concat([Trades(*(np.asarray(a) for a in p)) for p in parts])
        n = max(self.N, 1)
        column_equity = self.value + (self.equity - self.value.sum(axis=1))[:, None] / n
        notes = ("risk sizing: correlation/cluster caps and pre-earnings cuts are not modelled in the vectorized "
                 "pipeline",)
        return BacktestResult(self.spec, self.data, self.equity, column_equity, self.value, b.notional, b.fees,
                              trades, self.names, seconds, notes)
