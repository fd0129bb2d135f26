"""The risk entry point: protective exits, daily limits, then Kelly x vol sizing and caps for every target."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from risk.correlation import CorrelationView
from risk.entries import Book, Sizing, Wish
from risk.limits import check_daily_loss, count_closed_trades, entry_block, roll_day
from risk.sizing import atr, ewma_daily_vol, floor_to_step, kelly, qty_step
from risk.stops import StopLevels, as_utc, check_exit, initial_levels, ratchet
from risk.types import MarketData, Proposal, RiskClock, RiskPolicy, RiskResult, RiskState, TradeStats
from strategies.processor import Target
from tradebot.domain import (
    ZERO,
    Direction,
    Instrument,
    OrderIntent,
    Portfolio,
    RiskDecision,
    RiskLimits,
    Side,
    Signal,
    Symbol,
    Verdict,
    make_client_order_id,
)

PRE_EARNINGS = "pre_earnings"
RISK_STRATEGY = "risk"  # the strategy name protective exits are recorded under


def evaluate(
    targets: Sequence[Target],
    portfolio: Portfolio,
    market: MarketData,
    policy: RiskPolicy,
    state: RiskState,
    clock: RiskClock,
    cycle_id: str,
    *,
    instruments: Mapping[Symbol, Instrument],
    strategy_stats: Mapping[str, TradeStats | Sequence[float]] | None = None,
    earnings_flags: frozenset[Symbol] = frozenset(),
    stops: Mapping[Symbol, StopLevels] | None = None,
    prices: Mapping[Symbol, Decimal] | None = None,
    pending_buy_notional: Decimal = ZERO,
) -> RiskResult:
    """Judge one cycle: protective exits first (always allowed), then every target with each reason and number."""
    now = clock.now
    marks = dict(prices) if prices is not None else _last_closes(market.close)
    equity = portfolio.equity({**{s: p.avg_price for s, p in portfolio.positions.items()},
                               **{s: marks[s] for s in portfolio.positions if s in marks}})
    state = roll_day(state, clock, equity)
    state = count_closed_trades(state, strategy_stats, policy, now)
    state = check_daily_loss(state, equity, policy)
    flags = set(earnings_flags) | {t.symbol for t in targets if any(PRE_EARNINGS in s.tags for s in t.signals)}

    held = sorted(s for s, p in portfolio.positions.items() if p.qty != ZERO)
    in_play = sorted(set(held) | {t.symbol for t in targets})
    analytics = _Analytics(market, policy, in_play)
    exits, levels = _protective(portfolio, held, marks, analytics, policy, state, stops or {}, flags, equity,
                                instruments, cycle_id, now)
    exiting = {p.intent.symbol for p in exits}

    wishes = _wishes(targets, portfolio, marks, instruments, policy, equity, exiting)
    exposure = {s: portfolio.positions[s].qty * marks.get(s, portfolio.positions[s].avg_price) for s in held}
    for p in exits:  # protective exits free their exposure before entries are judged
        sign = -1 if p.intent.side is Side.SELL else 1
        exposure[p.intent.symbol] += sign * p.decision.approved_qty * p.intent.reference_price  # type: ignore[operator]
        if exposure[p.intent.symbol] == ZERO:
            del exposure[p.intent.symbol]
    corr = None
    if policy.corr_lookback is not None and not market.close.empty:
        corr = CorrelationView.build(market.close, in_play, exposure, policy.corr_lookback, policy.corr_min_obs,
                                     policy.cluster_threshold)
    trades_left = None if policy.max_trades_per_day is None else policy.max_trades_per_day - state.trades_today
    book = Book(policy, equity, portfolio.cash - pending_buy_notional, exposure, corr, entry_block(state, now),
                trades_left)
    stats = strategy_stats or {}
    kellys = {}
    if policy.kelly_fraction is not None:
        kellys = {name: kelly(stats.get(name), policy) for name in {w.strategy for w in wishes}}
    proposals = []
    for w in wishes:
        k = kellys.get(w.strategy)
        sizing = Sizing(k, analytics.daily_vol(w.target.symbol), w.target.symbol in flags)
        p = book.judge(w, sizing, cycle_id, now)
        proposals.append(p)
        direction = Direction.LONG if w.delta > 0 else Direction.SHORT
        current = levels.get(w.target.symbol)
        if w.leg == "entry" and p.decision.approved and (current is None or current.direction is not direction):
            lv = initial_levels(w.target.symbol, direction, w.price, analytics.atr(w.target.symbol), now, policy,
                                analytics.last_bar)
            if lv is not None:
                levels[w.target.symbol] = lv
    state = replace(state, trades_today=state.trades_today + book.entries_approved)
    notes = (f"equity {equity:.2f}", *([f"entries blocked: {book.block}"] if book.block else []))
    return RiskResult(proposals, exits, levels, state, equity, notes)


def decide(
    targets: Sequence[Target],
    portfolio: Portfolio,
    prices: Mapping[Symbol, Decimal],
    instruments: Mapping[Symbol, Instrument],
    limits: RiskLimits,
    cycle_id: str,
    now: datetime,
    pending_buy_notional: Decimal = ZERO,
) -> list[Proposal]:
    """Return a proposal per target under the plain caps of limits only (the original rule, no history needed)."""
    result = evaluate(targets, portfolio, MarketData.empty(), RiskPolicy.simple(limits), RiskState(),
                      RiskClock(now, now.date()), cycle_id, instruments=instruments, prices=prices,
                      pending_buy_notional=pending_buy_notional)
    return result.proposals


class _Analytics:
    """Vectorized volatility and ATR for the symbols in play, computed once per cycle."""

    def __init__(self, market: MarketData, policy: RiskPolicy, symbols: list[Symbol]) -> None:
        close = market.close.reindex(columns=symbols) if not market.close.empty else market.close
        self.last_bar = as_utc(close.index[-1]) if len(close.index) else None
        self.vol: dict[str, float] = {}
        self.atrs: dict[str, float] = {}
        self.bar: dict[str, tuple[float, float]] = {}
        if policy.vol_target is not None and not close.empty:
            self.vol = ewma_daily_vol(close, policy, market.bars_per_day).to_dict()
        self.fallback = policy.fallback_daily_vol
        if market.high is not None and market.low is not None and not close.empty:
            high = market.high.reindex(index=close.index, columns=symbols)
            low = market.low.reindex(index=close.index, columns=symbols)
            if policy.stop_atr is not None:
                self.atrs = atr(high, low, close, policy.atr_period).to_dict()
            self.bar = dict(zip(symbols, zip(high.iloc[-1].to_numpy(float), low.iloc[-1].to_numpy(float),
                                             strict=True), strict=True))

    def daily_vol(self, sym: Symbol) -> float | None:
        """Return sym's daily volatility, the fallback when unknown, or None."""
        v = self.vol.get(sym, math.nan)
        return v if math.isfinite(v) and v > 0 else self.fallback

    def atr(self, sym: Symbol) -> float | None:
        """Return sym's ATR at the last bar, or None."""
        v = self.atrs.get(sym, math.nan)
        return v if math.isfinite(v) else None

    def latest_bar(self, sym: Symbol) -> tuple[float, float]:
        """Return sym's (high, low) on the latest bar, NaN when it has none."""
        return self.bar.get(sym, (math.nan, math.nan))


def _last_closes(close: pd.DataFrame) -> dict[Symbol, Decimal]:
    if close.empty:
        return {}
    last = close.ffill().iloc[-1]
    return {Symbol(s): Decimal(repr(float(v))) for s, v in last.items() if np.isfinite(v) and v > 0}


def _protective(portfolio: Portfolio, held: list[Symbol], marks: Mapping[Symbol, Decimal], an: _Analytics,
                policy: RiskPolicy, state: RiskState, stops: Mapping[Symbol, StopLevels], flags: set[Symbol],
                equity: Decimal, instruments: Mapping[Symbol, Instrument], cycle: str,
                now: datetime) -> tuple[list[Proposal], dict[Symbol, StopLevels]]:
    """Return exits for stop, target, trailing, time, flatten and earnings hits, and the updated levels."""
    exits: list[Proposal] = []
    levels: dict[Symbol, StopLevels] = {}
    flatten = state.halted and policy.flatten_on_daily_loss and state.halt_reason.startswith("daily loss")
    for sym in held:
        pos = portfolio.positions[sym]
        direction = Direction.LONG if pos.qty > 0 else Direction.SHORT
        price = marks.get(sym, pos.avg_price)
        lv = stops.get(sym)
        hit = None
        if lv is None or lv.direction is not direction:
            # A fill since the last cycle (or a flip): anchor at the average price; the current bar is not replayed.
            lv = initial_levels(sym, direction, pos.avg_price, an.atr(sym), now, policy, an.last_bar)
        elif lv is not None:
            fresh = an.last_bar is not None and (lv.last_bar is None or an.last_bar > lv.last_bar)
            high, low = an.latest_bar(sym) if fresh else (math.nan, math.nan)
            hit = check_exit(lv, high, low, now)
            if fresh and math.isfinite(high) and math.isfinite(low):
                lv = ratchet(lv, high, low, an.last_bar)
        if lv is not None:
            levels[sym] = lv
        if hit is None and flatten:
            hit = ("flatten", f"flatten on daily loss: {state.halt_reason}")
        if hit is not None:
            exits.append(_exit(sym, pos.qty, price, hit[0], hit[1], cycle, now))
        elif sym in flags:
            inst = instruments.get(sym)
            step = qty_step(inst, policy) if inst is not None else Decimal("0.00000001")
            cut = _earnings_cut(sym, pos.qty, price, policy, equity, step)
            if cut is not None:
                exits.append(_exit(sym, cut[0], price, "earnings_cut", cut[1], cycle, now))
    return exits, levels


def _earnings_cut(sym: Symbol, qty: Decimal, price: Decimal, policy: RiskPolicy, equity: Decimal,
                  step: Decimal) -> tuple[Decimal, str] | None:
    cap_w = policy.symbol_caps.get(sym, policy.limits.max_position_weight) * policy.earnings_scale
    cap_qty = floor_to_step(Decimal(repr(cap_w)) * max(equity, ZERO) / price, step) if price > ZERO else ZERO
    excess = abs(qty) - cap_qty
    if excess <= ZERO:
        return None
    reason = (f"pre-earnings: position {abs(qty) * price / equity if equity else ZERO:.4f} of equity over "
              f"{cap_w:.4f} (cap x {policy.earnings_scale:.2f}); cut {excess} of {abs(qty)}")
    return (excess if qty > 0 else -excess), reason


def _exit(sym: Symbol, qty: Decimal, price: Decimal, leg: str, why: str, cycle: str, now: datetime) -> Proposal:
    """Return an always-approved protective exit of qty (signed holding to remove)."""
    side = Side.SELL if qty > 0 else Side.BUY
    sig = Signal(RISK_STRATEGY, sym, now, Direction.FLAT, 0.0, 1.0, 0, reasons=(why,), tags=("protective_exit", leg))
    target = Target(sym, 0.0, (sig,))
    intent = OrderIntent(client_order_id=make_client_order_id(RISK_STRATEGY, sym, cycle, leg), strategy=RISK_STRATEGY,
                         symbol=sym, side=side, qty=abs(qty), ts=now, reference_price=price, reason=why)
    reasons = (why, "protective exit: always allowed, even when halted, cooling down or under the kill switch")
    return Proposal(intent, RiskDecision(intent.client_order_id, Verdict.ACCEPTED, abs(qty), abs(qty), reasons),
                    target)


def _wishes(targets: Sequence[Target], portfolio: Portfolio, prices: Mapping[Symbol, Decimal],
            instruments: Mapping[Symbol, Instrument], policy: RiskPolicy, equity: Decimal,
            exiting: set[Symbol]) -> list[Wish]:
    """Return the trades targets ask for, exits before entries and larger wishes first."""
    lim = policy.limits
    out: list[Wish] = []
    for t in targets:
        price, inst = prices.get(t.symbol), instruments.get(t.symbol)
        if price is None or inst is None or price <= ZERO or t.symbol in exiting:
            continue  # no usable price, or a protective exit already owns this symbol this cycle
        weight = t.weight if lim.allow_short else max(t.weight, 0.0)
        desired = floor_to_step(abs(Decimal(repr(weight))) * max(equity, ZERO) / price, qty_step(inst, policy))
        desired = desired if weight >= 0 else -desired
        held = portfolio.qty(t.symbol)
        if held != ZERO and desired != ZERO and (held > 0) != (desired > 0):
            # A flip is two trades: the exit always passes, the new entry faces every rule.
            out.append(Wish(t, inst, price, -held, "exit", t.strategy))
            held = ZERO
        delta = desired - held
        if delta == ZERO or abs(delta) * price < lim.min_order_notional:
            continue
        out.append(Wish(t, inst, price, delta, "entry" if abs(held + delta) > abs(held) else "exit", t.strategy))
    out.sort(key=lambda w: (w.leg == "entry", -abs(w.target.weight), w.target.symbol))
    return out
