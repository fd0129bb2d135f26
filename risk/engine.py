"""The risk entry point: size targets into intents and accept, resize or reject each with reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from strategies.processor import Target
from tradebot.domain import (
    ZERO,
    Instrument,
    OrderIntent,
    Portfolio,
    RiskDecision,
    RiskLimits,
    Side,
    Symbol,
    Verdict,
    make_client_order_id,
)


@dataclass(frozen=True, slots=True)
class Proposal:
    """An intent at the size the strategy asked for, and risk's verdict on it."""

    intent: OrderIntent
    decision: RiskDecision
    target: Target


def floor_to_step(qty: Decimal, step: Decimal) -> Decimal:
    """Round qty down to a whole number of steps."""
    if step <= ZERO:
        raise ValueError(f"qty step must be positive, got {step}")
    return (qty / step).to_integral_value(ROUND_DOWN) * step


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
    """Return a proposal per target that needs a trade: exits first, then entries by weight."""
    marks = {s: prices[s] for s in portfolio.positions if s in prices}
    equity = portfolio.equity({**{s: p.avg_price for s, p in portfolio.positions.items()}, **marks})
    state = _State(portfolio, marks, equity, limits, portfolio.cash - pending_buy_notional)
    wanted = []
    for t in targets:
        price = prices.get(t.symbol)
        inst = instruments.get(t.symbol)
        if price is None or inst is None or price <= ZERO:
            continue  # no usable price this cycle: nothing can be sized
        weight = t.weight if limits.allow_short else max(t.weight, 0.0)
        desired = floor_to_step(abs(Decimal(str(weight))) * equity / price, inst.qty_step)
        desired = desired if weight >= 0 else -desired
        delta = desired - portfolio.qty(t.symbol)
        if delta == ZERO or abs(delta) * price < limits.min_order_notional:
            continue
        wanted.append((t, inst, price, delta))
    # Exits before entries, so freed capacity is counted; larger wishes first among entries.
    wanted.sort(key=lambda w: (w[3] > 0, -abs(w[0].weight), w[0].symbol))
    return [state.judge(t, inst, price, delta, cycle_id, now) for t, inst, price, delta in wanted]


class _State:
    """Running exposure while proposals are judged in order."""

    def __init__(self, pf: Portfolio, marks: Mapping[Symbol, Decimal], equity: Decimal, lim: RiskLimits,
                 cash: Decimal) -> None:
        self.lim = lim
        self.equity = equity
        self.cash = cash
        self.exposure = {s: p.qty * marks.get(s, p.avg_price) for s, p in pf.positions.items() if p.qty != ZERO}

    def judge(self, t: Target, inst: Instrument, price: Decimal, delta: Decimal, cycle: str,
              now: datetime) -> Proposal:
        side = Side.BUY if delta > 0 else Side.SELL
        requested = abs(delta)
        held_value = self.exposure.get(t.symbol, ZERO)
        # An order that grows the absolute position is an entry; one that shrinks it is an exit.
        leg = "entry" if abs(held_value + delta * price) > abs(held_value) else "exit"
        intent = OrderIntent(
            client_order_id=make_client_order_id(t.strategy, t.symbol, cycle, leg),
            strategy=t.strategy, symbol=t.symbol, side=side, qty=requested, ts=now,
            reference_price=price, reason=f"target weight {t.weight:+.4f}",
        )
        reasons: list[str] = []
        qty = requested if leg == "exit" else self._cap_entry(t.symbol, inst, price, requested, reasons)
        if leg == "exit":
            reasons.append(f"exit toward target weight {t.weight:+.4f}: reduces risk, always allowed")
        if qty < requested and qty * price < self.lim.min_order_notional:
            reasons.append(f"resized notional {qty * price:.2f} below minimum {self.lim.min_order_notional}")
            qty = ZERO
        verdict = Verdict.REJECTED if qty == ZERO else Verdict.RESIZED if qty < requested else Verdict.ACCEPTED
        if verdict is Verdict.ACCEPTED and leg == "entry":
            reasons.append(f"within limits: weight {qty * price / self.equity:.4f} <= {self.lim.max_position_weight}")
        if qty > ZERO:
            signed = qty * price if side is Side.BUY else -qty * price
            self.exposure[t.symbol] = held_value + signed
            self.cash -= signed
            if self.exposure[t.symbol] == ZERO:
                del self.exposure[t.symbol]
        decision = RiskDecision(intent.client_order_id, verdict, requested, qty, tuple(reasons))
        return Proposal(intent, decision, t)

    def _cap_entry(self, sym: Symbol, inst: Instrument, price: Decimal, qty: Decimal, reasons: list[str]) -> Decimal:
        lim, eq = self.lim, self.equity
        if sym not in self.exposure and len(self.exposure) >= lim.max_open_positions:
            reasons.append(f"max open positions {lim.max_open_positions} reached; entry rejected")
            return ZERO
        caps = {
            "position weight": Decimal(str(lim.max_position_weight)) * eq - abs(self.exposure.get(sym, ZERO)),
            "gross exposure": Decimal(str(lim.max_gross_exposure)) * eq - sum(map(abs, self.exposure.values())),
            "cash": self.cash,
        }
        for name, room in caps.items():
            allowed = floor_to_step(max(room, ZERO) / price, inst.qty_step)
            if allowed < qty:
                reasons.append(_cap_reason(name, qty, allowed, price, eq, room))
                qty = allowed
        return qty


def _cap_reason(name: str, qty: Decimal, allowed: Decimal, price: Decimal, equity: Decimal, room: Decimal) -> str:
    if name == "cash":
        return f"cash {max(room, ZERO):.2f} short of {qty * price:.2f}; size cut from {qty} to {allowed}"
    wanted = qty * price / equity if equity else ZERO
    left = max(room, ZERO) / equity if equity else ZERO
    return f"{name} {wanted:.4f} of equity over its room {left:.4f}; size cut from {qty} to {allowed}"
