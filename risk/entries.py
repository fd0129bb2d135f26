"""Judge target-driven trades one by one against running exposure: gates, sizing caps, venue minimums."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from risk.correlation import CorrelationView
from risk.sizing import KellyEstimate, floor_to_step, min_notional, min_qty, qty_step
from risk.types import Proposal, RiskPolicy
from strategies.processor import Target
from tradebot.domain import (
    ZERO,
    Instrument,
    OrderIntent,
    RiskDecision,
    Side,
    Symbol,
    Verdict,
    make_client_order_id,
)


def _d(x: float) -> Decimal:
    return Decimal(repr(float(x)))


@dataclass(frozen=True, slots=True)
class Wish:
    """One trade a target asks for: signed quantity delta at a reference price, and whether it adds risk."""

    target: Target
    inst: Instrument
    price: Decimal
    delta: Decimal
    leg: str  # "entry" grows the absolute position, "exit" shrinks it
    strategy: str  # the target's lead strategy, looked up once


@dataclass(frozen=True, slots=True)
class Sizing:
    """Per-entry inputs from the vectorized analytics: Kelly estimate and daily volatility."""

    kelly: KellyEstimate | None
    daily_vol: float | None
    earnings: bool


class Book:
    """Running cash and exposure while proposals are judged in order, exits before entries."""

    def __init__(self, policy: RiskPolicy, equity: Decimal, cash: Decimal, exposure: dict[Symbol, Decimal],
                 corr: CorrelationView | None, block: str | None, trades_left: int | None) -> None:
        self.policy = policy
        self.lim = policy.limits
        self.equity = equity
        self.cash = cash
        self.exposure = exposure
        self.corr = corr
        self.block = block
        self.trades_left = trades_left
        self.entries_approved = 0

    def judge(self, w: Wish, sizing: Sizing, cycle: str, now: datetime) -> Proposal:
        """Return the proposal for one wish, updating running exposure when approved."""
        t = w.target
        side = Side.BUY if w.delta > 0 else Side.SELL
        requested = abs(w.delta)
        intent = OrderIntent(
            client_order_id=make_client_order_id(w.strategy, t.symbol, cycle, w.leg),
            strategy=w.strategy, symbol=t.symbol, side=side, qty=requested, ts=now,
            reference_price=w.price, reason=f"target weight {t.weight:+.4f}",
        )
        reasons: list[str] = []
        if w.leg == "exit":
            qty = self._exit(t, reasons, requested)
        else:
            qty = self._entry(w, sizing, requested, reasons)
        verdict = Verdict.REJECTED if qty == ZERO else Verdict.RESIZED if qty < requested else Verdict.ACCEPTED
        if verdict is Verdict.ACCEPTED and w.leg == "entry":
            cap = self._cap_weight(t.symbol, sizing)
            reasons.append(f"within limits: weight {qty * w.price / self.equity:.4f} <= {cap}")
        if qty > ZERO:
            self._apply(t.symbol, qty * w.price if side is Side.BUY else -qty * w.price, w.leg)
        decision = RiskDecision(intent.client_order_id, verdict, requested, qty, tuple(reasons))
        return Proposal(intent, decision, t)

    def _exit(self, t: Target, reasons: list[str], requested: Decimal) -> Decimal:
        if self.block is not None and self.block.startswith("kill switch"):
            reasons.append(f"{self.block}; strategy exit rejected")
            return ZERO
        reasons.append(f"exit toward target weight {t.weight:+.4f}: reduces risk, always allowed")
        return requested

    def _apply(self, sym: Symbol, signed: Decimal, leg: str) -> None:
        held = self.exposure.get(sym, ZERO)
        self.exposure[sym] = held + signed
        self.cash -= signed
        if self.exposure[sym] == ZERO:
            del self.exposure[sym]
        if leg == "entry":
            self.entries_approved += 1
            if self.corr is not None:
                self.corr.add(sym, abs(signed))
            if self.trades_left is not None:
                self.trades_left -= 1

    def _cap_weight(self, sym: Symbol, sizing: Sizing) -> float:
        w = self.policy.symbol_caps.get(sym, self.lim.max_position_weight)
        return w * self.policy.earnings_scale if sizing.earnings else w

    def _entry(self, w: Wish, sizing: Sizing, qty: Decimal, reasons: list[str]) -> Decimal:
        sym, price, pol, eq = w.target.symbol, w.price, self.policy, self.equity
        sign = 1 if w.delta > 0 else -1
        gate = self._gate(w, sizing, reasons)
        if gate:
            reasons.append(gate)
            return ZERO
        step = qty_step(w.inst, pol)
        held = abs(self.exposure.get(sym, ZERO))
        scale = _d(pol.earnings_scale) if sizing.earnings else Decimal(1)
        if sizing.earnings:
            reasons.append(f"pre-earnings: allowance and position cap scaled by {pol.earnings_scale:.2f}")

        def cut(label: str, room: Decimal, q: Decimal) -> Decimal:
            allowed = floor_to_step(max(room, ZERO) / price, step)
            if allowed < q:
                reasons.append(f"{label}: wanted {q * price:.2f} ({q * price / eq:.4f} of equity), room "
                               f"{max(room, ZERO):.2f}; size cut from {q} to {allowed}")
                return allowed
            return q

        allowance = self._allowance(sizing, reasons)
        if allowance is not None:
            room = allowance * scale * eq - held
            qty = cut(f"Kelly x vol allowance {allowance * scale:.4f} of equity (held {held / eq:.4f})", room, qty)
        for label, room in self._rooms(sym, sizing, held, sign):
            qty = cut(label, room, qty)
        qty = self._correlation(sym, sign, qty, step, reasons)
        if self.corr is not None and pol.max_cluster_weight is not None:
            members = [m for m in self.corr.members(sym) if m in self.exposure]
            used = self.corr.cluster_gross.get(self.corr.label(sym), ZERO)
            room = _d(pol.max_cluster_weight) * eq - used
            with_ = f" with {', '.join(members[:5])}" if members else ""
            qty = cut(f"cluster cap {pol.max_cluster_weight:.2f} (cluster{with_} holds {used / eq:.4f})", room, qty)
        if w.delta > 0:
            qty = cut("cash", self.cash, qty)
        return self._minimums(w, qty, reasons)

    def _gate(self, w: Wish, sizing: Sizing, reasons: list[str]) -> str | None:
        lim, sym = self.lim, w.target.symbol
        if self.block is not None:
            return f"{self.block}; entry rejected"
        if self.equity <= ZERO:
            return f"equity {self.equity:.2f} is not positive; entry rejected"
        if self.trades_left is not None and self.trades_left <= 0:
            return f"max trades per day {self.policy.max_trades_per_day} reached; entry rejected"
        if sym not in self.exposure and len(self.exposure) >= lim.max_open_positions:
            return f"max open positions {lim.max_open_positions} reached; entry rejected"
        k = sizing.kelly
        if k is not None:
            reasons.append(k.describe(w.strategy))
            if k.used <= 0:
                return f"no edge: Kelly {k.full:+.4f} <= 0; entry rejected"
        if self.policy.vol_target is not None and sizing.daily_vol is None:
            return (f"daily volatility unknown (fewer than {self.policy.vol_min_obs} returns) and no fallback; "
                    "entry rejected")
        return None

    def _allowance(self, sizing: Sizing, reasons: list[str]) -> Decimal | None:
        """Return the Kelly x volatility weight allowance, or None when both rules are off."""
        pol = self.policy
        k = sizing.kelly
        if pol.vol_target is not None and sizing.daily_vol is not None:
            vol_w = pol.vol_target / sizing.daily_vol
            # Kelly scales the volatility budget from 0 (no edge) to 1 (edge at the cap).
            kmult = k.used / pol.kelly_cap if k is not None else 1.0
            reasons.append(f"vol target {pol.vol_target:.2%} / daily vol {sizing.daily_vol:.2%} = weight "
                           f"{vol_w:.4f} x Kelly share {kmult:.3f}")
            return _d(vol_w * kmult)
        if k is not None:
            return _d(k.used)
        return None

    def _rooms(self, sym: Symbol, sizing: Sizing, held: Decimal, sign: int) -> list[tuple[str, Decimal]]:
        """Return the notional room under each plain cap, with the reason to give when it binds."""
        pol, lim, eq = self.policy, self.lim, self.equity
        cap_w = _d(self._cap_weight(sym, sizing))
        gross = sum(map(abs, self.exposure.values()), ZERO)
        net = sign * sum(self.exposure.values(), ZERO)
        rooms = [(f"position weight cap {cap_w} (held {held / eq:.4f})", cap_w * eq - held)]
        if pol.max_position_notional is not None:
            rooms.append((f"position notional cap {pol.max_position_notional} (held {held:.2f})",
                          pol.max_position_notional - held))
        if pol.max_order_notional is not None:
            rooms.append((f"order notional cap {pol.max_order_notional}", pol.max_order_notional))
        rooms.append((f"gross exposure cap {lim.max_gross_exposure} (used {gross / eq:.4f})",
                      _d(lim.max_gross_exposure) * eq - gross))
        if pol.max_net_exposure is not None:
            rooms.append((f"net exposure cap {pol.max_net_exposure} (used {net / eq:+.4f} this way)",
                          _d(pol.max_net_exposure) * eq - net))
        return rooms

    def _correlation(self, sym: Symbol, sign: int, qty: Decimal, step: Decimal, reasons: list[str]) -> Decimal:
        pol = self.policy
        if self.corr is None or qty == ZERO:
            return qty
        hit = self.corr.most_correlated(sym, sign, self.exposure)
        if hit is None or not math.isfinite(hit[0]) or hit[0] <= pol.corr_threshold:
            return qty
        rho, other = hit
        if rho >= pol.corr_reject:
            reasons.append(f"correlation {rho:.2f} with {other} >= {pol.corr_reject:.2f} reject limit; entry rejected")
            return ZERO
        # Quantize first so a scale of 1/3 turns 120 into 40, not 39 through 0.33333...
        allowed = floor_to_step((qty * _d(pol.corr_scale)).quantize(Decimal("1e-9")), step)
        reasons.append(f"correlation {rho:.2f} with {other} > {pol.corr_threshold:.2f} limit; "
                       f"size cut from {qty} to {allowed}")
        return allowed

    def _minimums(self, w: Wish, qty: Decimal, reasons: list[str]) -> Decimal:
        if qty == ZERO:
            return ZERO
        floor_n, floor_q = min_notional(w.inst, self.policy), min_qty(w.inst, self.policy)
        if qty * w.price < floor_n:
            reasons.append(f"notional {qty * w.price:.2f} below minimum {floor_n}; entry rejected")
            return ZERO
        if qty < floor_q:
            reasons.append(f"quantity {qty} below venue minimum {floor_q}; entry rejected")
            return ZERO
        return qty
