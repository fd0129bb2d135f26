"""The full pipeline on arrays: strategies -> signal processor -> risk engine -> paper-style fills, per bar.

Everything that does not depend on the book (signals, target weights, volatility, ATR) is computed
for all bars at once. The time loop then steps bar by bar, vectorized across symbols, doing what
risk.evaluate and the paper broker do each cycle: protective exits (stop, take profit, trailing, time),
daily-loss halt, trade count, loss-streak cooldown, exits before entries, Kelly x vol allowance,
position/gross/net/cash caps, open-position count, venue minimums, then fills at this close or the
next open with slippage and fees. Entries in one bar are judged largest target first, as the engine does.

Not modelled here (the event-driven replay has them): correlation and cluster caps, pre-earnings
cuts and the earnings strategy. Money is float64 inside the loop (Decimal at the ledger edge).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from risk import RiskPolicy, kelly
from risk.vectorized import atr_arrays, ewma_vol_arrays, initial_stops
from strategies.vectorized import SignalArrays, combine, held_votes
from tradebot.backtest.book import Book, Fills
from tradebot.backtest.data import BarArrays, _is_crypto
from tradebot.backtest.engine import BacktestResult, BacktestSpec, build_signals

DAY_NS = 86_400_000_000_000


def run_pipeline(data: BarArrays, spec: BacktestSpec, t0: float, news: pd.DataFrame | None = None) -> BacktestResult:
    """Run strategies, processor, risk and paper fills over data."""
    policy = spec.policy or RiskPolicy()
    sigs = build_signals(spec, data, news)
    sim = _Sim(data, spec, policy, sigs)
    sim.loop()
    return sim.result(time.perf_counter() - t0)


class _Sim(Fills):
    def __init__(self, data: BarArrays, spec: BacktestSpec, policy: RiskPolicy, sigs: list[SignalArrays]) -> None:
        self.data, self.spec, self.policy, self.sigs = data, spec, policy, sigs
        self.names = tuple(s.name for s in sigs)
        T, N = data.close.shape
        self.T, self.N = T, N
        lim = policy.limits
        self.has = ~np.isnan(data.close)
        rows = np.arange(T)[:, None]
        last = np.maximum.accumulate(np.where(self.has, rows, -1), axis=0)
        self.marks = np.where(last >= 0, np.take_along_axis(data.close, np.maximum(last, 0), axis=0), 0.0)
        crypto = np.array([_is_crypto(s) for s in data.symbols])
        frac = float(policy.fractional_step)
        self.step = np.where(crypto, 1e-4, frac if policy.fractional_equities else 1.0)
        self.min_notional = np.where(crypto, float(max(lim.min_order_notional, policy.crypto_min_notional)),
                                     float(lim.min_order_notional))
        self.order_floor = float(lim.min_order_notional)
        self.step_list, self.floor_list = self.step.tolist(), self.min_notional.tolist()
        self.stateless = all(s.exit_long is None for s in sigs)
        self.gaps = bool((~self.has).any())
        self.shorts = lim.allow_short
        if self.stateless:
            self.W = combine([(s.active, s.strength, s.confidence) for s in sigs], spec.weight_per_unit,
                             spec.weights, self.names)
            self.lead = self._lead(slice(None), [(s.active, s.strength) for s in sigs])
        self.vol = ewma_vol_arrays(data.close, policy, data.bars_per_day()) if policy.vol_target is not None else None
        with np.errstate(divide="ignore", invalid="ignore"):
            self.inv_px = np.where(self.marks > 0, 1.0 / self.marks, 0.0)
            if self.vol is not None:
                fallback = policy.fallback_daily_vol if policy.fallback_daily_vol is not None else np.nan
                # Volatility budget per symbol and bar; NaN: unknown volatility and no fallback, entries rejected.
                self.vol_room = policy.vol_target / np.where(np.isfinite(self.vol) & (self.vol > 0), self.vol,
                                                             fallback)
        if self.stateless:
            self._prepare_targets(self.W)
        self.atr = atr_arrays(data.high, data.low, data.close, policy.atr_period) if policy.stop_atr is not None \
            else np.full((T, N), np.nan)
        self.now = data.decision_times()  # refuses mixed timeframes: one clock for a shared account
        self.slip = spec.slippage_bps / 10_000
        self.book = Book(N, spec.cash)
        self.equity = np.zeros(T)
        self.value = np.zeros((T, N))
        self.returns: dict[int, list[float]] = {i: [] for i in range(len(sigs))}
        self.kelly_used = np.array([kelly(None, policy).used] * len(sigs)) if policy.kelly_fraction is not None \
            else None
        self.pending = np.zeros(N)
        self.pending_owner = np.zeros(N, dtype=np.int64)
        self.halted = False
        self.day = -1
        self.start_eq = spec.cash
        self.trades_today = 0
        self.streak = 0
        self.cooldown_until = -1
        self.unseen: list[tuple[int, float]] = []  # closed trades the next decision has not counted yet
        self.notes: list[str] = []

    def _prepare_targets(self, W: np.ndarray) -> None:
        """Precompute, per bar, what the loop needs of the target weights: where there is a view, sign, size."""
        lim = self.policy.limits
        Wc = W if lim.allow_short else np.maximum(W, 0.0)
        self.view = ~np.isnan(Wc) & (self.marks > 0) & self.has
        self.w_sign = np.sign(np.nan_to_num(Wc))
        self.w_abs = np.abs(np.nan_to_num(Wc))
        # Shares per unit of equity: floor(|w| x equity / price / step) x step is then one multiply per bar.
        self.w_units = self.w_abs * self.inv_px / self.step
        self.w_step = self.w_sign * self.step

    def _lead(self, rows: slice | int, votes: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        score = np.stack([np.where(a, np.abs(x) * s.confidence_at(rows) * self.spec.weights.get(s.name, 1.0), -1.0)
                          for (a, x), s in zip(votes, self.sigs, strict=True)])
        return np.argmax(score, axis=0)

    # -- the time loop ---------------------------------------------------------------------------
    def loop(self) -> None:
        """Step through every bar: fills due, protective exits, targets, risk judgments, orders, equity."""
        pol = self.policy
        next_open = self.spec.fill == "next_open"
        hold_ns = pol.max_holding_days * DAY_NS if pol.max_holding_days is not None else None
        prev_eq = self.spec.cash
        saved = np.seterr(invalid="ignore", divide="ignore")
        try:
            self._steps(next_open, hold_ns, prev_eq)
        finally:
            np.seterr(**saved)

    def _steps(self, next_open: bool, hold_ns: int | None, prev_eq: float) -> None:
        b, data = self.book, self.data
        for t in range(self.T):
            now = int(self.now[t])
            if next_open and self.pending.any():
                self._fill_pending(t)
            px = self.marks[t]
            eq = b.cash + float(b.qty @ px)
            self._session(now, eq, prev_eq)
            if self.unseen:
                self._count_losses(now)
            held = b.qty != 0
            exiting = np.zeros(self.N, dtype=bool)
            if held.any():
                exiting = self._protective(t, now, held, hold_ns)
            orders = np.where(exiting, -b.qty, 0.0) if exiting.any() else np.zeros(self.N)
            owners = b.owner.copy() if len(self.sigs) > 1 else b.owner
            lead = self._targets(t)
            self._judge(t, now, eq, px, lead, exiting, orders, owners)
            if orders.any():
                if next_open:
                    # One order in flight per symbol: one still waiting for a bar blocks new ones for it.
                    inflight = self.pending != 0
                    self.pending = np.where(inflight, self.pending, orders)
                    self.pending_owner = np.where(inflight, self.pending_owner, owners)
                else:
                    self._fill(t, np.flatnonzero(orders), orders, owners, data.close[t])
            eq = b.cash + float(b.qty @ px)
            self.equity[t] = prev_eq = eq
            self.value[t] = b.qty * px

    def _session(self, now: int, eq: float, prev_eq: float) -> None:
        day = now // DAY_NS
        if day != self.day:
            # The session starts from the equity recorded before it opened: the previous bar's.
            self.day, self.start_eq, self.trades_today, self.halted = day, prev_eq, 0, False
        loss = self.policy.max_daily_loss
        if not self.halted and loss is not None and self.start_eq > 0 and eq / self.start_eq - 1 <= -loss:
            self.halted = True

    def _count_losses(self, now: int) -> None:
        """Advance the loss streak by trades closed since the last decision (risk.limits.count_closed_trades)."""
        pol = self.policy
        # The engine reads closed trades per strategy in name order, each strategy's oldest first.
        for _, r in sorted(self.unseen, key=lambda x: self.names[x[0]]):
            self.streak = self.streak + 1 if r <= 0 else 0
            if pol.max_consecutive_losses is not None and self.streak >= pol.max_consecutive_losses:
                self.cooldown_until = now + int(pol.loss_cooldown.total_seconds() * 1e9)
                self.streak = 0
        self.unseen.clear()

    def _protective(self, t: int, now: int, held: np.ndarray, hold_ns: int | None) -> np.ndarray:
        b, d = self.book, self.data
        new = held & (b.level_row < 0)
        if new.any():  # a fill without levels (e.g. a re-entry after a stop): anchor at the average price
            self._set_levels(new, b.avg, np.sign(b.qty), t, now)
            known = held & ~new  # fresh levels are not checked against the bar they were set on
        else:
            known = held
        fresh = known & self.has[t] if self.gaps else known
        lo, hi = d.low[t], d.high[t]
        long_ = b.qty > 0
        hit = long_ & ((lo <= b.stop) | (hi >= b.tp))
        if self.shorts:
            short = b.qty < 0
            hit |= short & ((hi >= b.stop) | (lo <= b.tp))
        hit &= fresh
        if hold_ns is not None:
            hit |= known & (now - b.opened >= hold_ns)
        if self.halted and self.policy.flatten_on_daily_loss:
            hit |= held
        # Trailing stops ratchet on the bar just seen, in the position's favour only (NaN trail: no trailing).
        up = fresh & long_
        np.fmax(b.anchor, hi, out=b.anchor, where=up)
        np.fmax(b.stop, b.anchor - b.trail, out=b.stop, where=up)
        if self.shorts:
            down = fresh & short
            np.fmin(b.anchor, lo, out=b.anchor, where=down)
            np.fmin(b.stop, b.anchor + b.trail, out=b.stop, where=down)
        return hit

    def _targets(self, t: int) -> np.ndarray:
        """Return the lead strategy per symbol at t (state-dependent strategies also refresh the targets)."""
        if self.stateless:
            return self.lead[t]
        side = np.sign(self.book.qty)
        # A strategy exits only positions it opened (MarketSnapshot.may_exit): the opening fill's lead strategy.
        votes = [held_votes(s, side if s.exit_long is None else np.where(self.book.owner == k, side, 0.0), t)
                 for k, s in enumerate(self.sigs)]
        w = combine([(a, x, s.confidence_at(t)) for (a, x), s in zip(votes, self.sigs, strict=True)],
                    self.spec.weight_per_unit, self.spec.weights, self.names)
        self._prepare_row(t, w)
        return self._lead(t, votes)

    def _prepare_row(self, t: int, w: np.ndarray) -> None:
        if not hasattr(self, "view"):
            self.view = np.zeros((self.T, self.N), dtype=bool)
            self.w_sign, self.w_abs, self.w_units, self.w_step = (np.zeros((self.T, self.N)) for _ in range(4))
        wc = w if self.policy.limits.allow_short else np.maximum(w, 0.0)
        self.view[t] = ~np.isnan(wc) & (self.marks[t] > 0) & self.has[t]
        self.w_sign[t] = np.sign(np.nan_to_num(wc))
        self.w_abs[t] = np.abs(np.nan_to_num(wc))
        self.w_units[t] = self.w_abs[t] * self.inv_px[t] / self.step
        self.w_step[t] = self.w_sign[t] * self.step

    def _judge(self, t: int, now: int, eq: float, px: np.ndarray, lead: np.ndarray, exiting: np.ndarray,
               orders: np.ndarray, owners: np.ndarray) -> None:
        """Turn this bar's targets into exits (always allowed) and entries (judged by _entries)."""
        b = self.book
        view = self.view[t]
        if exiting.any():
            view = view & ~exiting
            held = np.where(exiting, 0.0, b.qty)
        else:
            held = b.qty
        desired = self.w_units[t] * max(eq, 0.0)
        desired += 1e-9
        np.floor(desired, out=desired)
        desired *= self.w_step[t]
        delta = np.where(view, desired - held, 0.0)
        if self.policy.limits.allow_short:
            flip = (held * desired) < 0  # a flip is two trades: the exit passes, the entry faces every rule
            if flip.any():
                orders -= np.where(flip, held, 0.0)
                held = np.where(flip, 0.0, held)
                delta = np.where(view, desired - held, 0.0)
        else:
            flip = None
        ok = np.abs(delta) * px >= self.order_floor
        grows = np.abs(held + delta) > np.abs(held) if flip is not None else delta > 0  # long-only: a buy adds
        entry = ok & grows
        exit_ = ok & ~grows
        if exit_.any():
            orders += np.where(exit_, delta, 0.0)
        if len(self.sigs) > 1:
            changed = ok if flip is None else ok | flip
            owners[:] = np.where(changed, lead, owners)
        if not entry.any():
            return
        # Exposure and cash after this bar's exits, at reference prices, as the risk Book tracks them.
        after = b.qty + orders
        exposure = after * px
        cash = b.cash - float(np.dot(orders, px))
        self._entries(t, now, eq, px, self.w_abs[t], lead, np.flatnonzero(entry), delta, exposure, cash, orders)

    def _entries(self, t: int, now: int, eq: float, px: np.ndarray, w: np.ndarray, lead: np.ndarray,
                 idx: np.ndarray, delta: np.ndarray, exposure: np.ndarray, cash: float, orders: np.ndarray) -> None:
        """Judge entries one by one, largest target first, each against what the previous ones left (Book.judge)."""
        pol, lim = self.policy, self.policy.limits
        trades_left = None if pol.max_trades_per_day is None else pol.max_trades_per_day - self.trades_today
        if self.halted or now < self.cooldown_until or eq <= 0 or (trades_left is not None and trades_left <= 0):
            return
        open_n = int(np.count_nonzero(exposure))
        if open_n >= lim.max_open_positions:  # no room for a new symbol: only holdings may grow
            idx = idx[exposure[idx] != 0]
            if not len(idx):
                return
        if len(idx) > 1:
            idx = idx[np.lexsort((idx, -w[idx]))]
        # A handful of candidates per bar: plain floats beat numpy calls here.
        cols = idx.tolist()
        prices, deltas = px[idx].tolist(), delta[idx].tolist()
        held_l = np.abs(exposure[idx]).tolist()
        steps, floors = self.step_list, self.floor_list
        vol_rooms = self.vol_room[t, idx].tolist() if self.vol is not None else None
        leads = lead[idx].tolist()
        gross, net = float(np.abs(exposure).sum()), float(exposure.sum())
        cap_w, gross_cap = lim.max_position_weight * eq, lim.max_gross_exposure * eq
        net_cap = pol.max_net_exposure * eq if pol.max_net_exposure is not None else math.inf
        pos_cap = float(pol.max_position_notional) if pol.max_position_notional is not None else math.inf
        order_cap = float(pol.max_order_notional) if pol.max_order_notional is not None else math.inf
        kellys = self.kelly_used.tolist() if self.kelly_used is not None else None
        taken: list[tuple[int, float]] = []
        for k, j in enumerate(cols):
            if trades_left is not None and trades_left <= 0:
                break
            held_n = held_l[k]
            if held_n == 0 and open_n >= lim.max_open_positions:
                continue
            share = kellys[leads[k]] if kellys is not None else None
            if share is not None and share <= 0:
                continue  # no edge: Kelly <= 0
            sign = 1.0 if deltas[k] > 0 else -1.0
            p, step = prices[k], steps[j]
            room = min(cap_w - held_n, pos_cap - held_n, order_cap, gross_cap - gross, net_cap - sign * net)
            if vol_rooms is not None:
                vr = vol_rooms[k]
                if not math.isfinite(vr):
                    continue  # volatility unknown and no fallback
                room = min(room, vr * (share / pol.kelly_cap if share is not None else 1.0) * eq - held_n)
            elif share is not None:
                room = min(room, share * eq - held_n)
            if sign > 0:
                room = min(room, cash)
            q = min(abs(deltas[k]), math.floor(max(room, 0.0) / p / step + 1e-9) * step)
            if q * p < floors[j] or q < step:
                continue
            notional = q * p
            gross += notional
            net += sign * notional
            cash -= sign * notional
            open_n += held_n == 0
            if trades_left is not None:
                trades_left -= 1
            taken.append((j, sign * q))
        if not taken:
            return
        self.trades_today += len(taken)
        sym = np.array([j for j, _ in taken])
        signed = np.array([q for _, q in taken])
        orders[sym] += signed
        b = self.book
        renew = (b.level_row[sym] < 0) | (np.sign(b.qty[sym]) != np.sign(signed))
        if renew.any():
            mask = np.zeros(self.N, dtype=bool)
            mask[sym[renew]] = True
            side = np.zeros(self.N)
            side[sym] = np.sign(signed)
            self._set_levels(mask, px, side, t, now)

    def _set_levels(self, mask: np.ndarray, price: np.ndarray, side: np.ndarray, t: int, now: int) -> None:
        b = self.book
        stop, tp, trail = initial_stops(price, self.atr[t], side, self.policy)
        b.stop, b.tp, b.trail = np.where(mask, stop, b.stop), np.where(mask, tp, b.tp), np.where(mask, trail, b.trail)
        b.anchor = np.where(mask, price, b.anchor)
        b.opened = np.where(mask, now, b.opened)
        b.level_row = np.where(mask, t, b.level_row)
