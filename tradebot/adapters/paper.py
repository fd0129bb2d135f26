"""The built-in paper broker: fills at the next bar's open (or a given quote), books kept in SQL."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.domain import (
    ZERO,
    ClientOrderId,
    Fill,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Position,
    Protection,
    Side,
    Symbol,
    TimeInForce,
)
from tradebot.errors import BrokerError
from tradebot.store.db import transaction
from tradebot.store.paper import PaperAccountRow, PaperFillRow, PaperOrderRow, PaperPositionRow

PRICE_Q = Decimal("0.000001")
CASH_Q = Decimal("0.01")
BPS = Decimal("10000")


@dataclass(frozen=True, slots=True)
class Quote:
    """The prices a resting order can fill against: a bar (open/high/low) or a single quote."""

    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal

    @classmethod
    def at(cls, ts: datetime, price: Decimal) -> Quote:
        """Return a quote where every price is price."""
        return cls(ts, price, price, price)


def to_price(value: float | Decimal) -> Decimal:
    """Convert a float bar price to an exact Decimal price at micro-unit precision."""
    return Decimal(repr(float(value))).quantize(PRICE_Q, ROUND_HALF_UP) if not isinstance(value, Decimal) else value


class PaperBroker:
    """A broker simulated over the ledger database, one account per name."""

    name = "paper"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        account: str,
        initial_cash: Decimal,
        slippage_bps: Decimal = Decimal("5"),
        commission_bps: Decimal = Decimal("1"),
        allow_short: bool = False,
        latency: timedelta = timedelta(milliseconds=1),
    ) -> None:
        self._sessions = sessions
        self.account = account
        self._slippage = Decimal(slippage_bps) / BPS
        self._commission = Decimal(commission_bps) / BPS
        self._allow_short = allow_short
        self._initial_cash = Decimal(initial_cash)
        # No order fills at the instant it is sent: a fill is stamped at least this long after submission.
        self._latency = latency

    def open_account(self, now: datetime) -> None:
        """Create the account with its initial cash if it does not exist yet."""
        with transaction(self._sessions) as s:
            if s.get(PaperAccountRow, self.account) is None:
                s.add(PaperAccountRow(account=self.account, cash=self._initial_cash, created_at=now))

    # --- Broker protocol -------------------------------------------------------------------

    def submit_order(self, intent: OrderIntent, now: datetime) -> Order:
        """Accept the order to rest until the next quote, or reject it with the reason."""
        with transaction(self._sessions) as s:
            existing = s.get(PaperOrderRow, intent.client_order_id)
            if existing is not None:
                return _order(existing)
            acct = self._account(s)
            reason = self._rejection(s, acct, intent)
            row = PaperOrderRow(
                client_order_id=intent.client_order_id,
                account=self.account,
                broker_order_id=_broker_id(self.account, intent.client_order_id),
                symbol=intent.symbol,
                side=intent.side.value,
                qty=intent.qty,
                order_type=intent.order_type.value,
                limit_price=intent.limit_price,
                status=(OrderStatus.REJECTED if reason else OrderStatus.SUBMITTED).value,
                filled_qty=ZERO,
                avg_fill_price=None,
                reject_reason=reason,
                submitted_at=now,
                updated_at=now,
                stop_price=_initial_stop(intent),
                trail_percent=intent.trail_percent,
                time_in_force=intent.time_in_force.value,
            )
            s.add(row)
            s.flush()
            return _order(row)

    def get_order(self, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by client order id."""
        with self._sessions() as s:
            row = s.get(PaperOrderRow, client_order_id)
            return _order(row) if row is not None and row.account == self.account else None

    def cancel_order(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel a working order; terminal orders come back unchanged."""
        with transaction(self._sessions) as s:
            row = s.get(PaperOrderRow, client_order_id)
            if row is None or row.account != self.account:
                raise BrokerError(f"paper broker: no order with client id {client_order_id}")
            if not OrderStatus(row.status).terminal:
                row.status, row.updated_at = OrderStatus.CANCELED.value, now
            return _order(row)

    def protect(self, symbol: Symbol, qty: Decimal, protection: Protection, client_order_id: ClientOrderId,
                now: datetime) -> Order:
        """Place a GTC protective stop (and a take-profit limit, one-cancels-other) for a holding."""
        with transaction(self._sessions) as s:
            existing = s.get(PaperOrderRow, client_order_id)
            if existing is not None:
                return _order(existing)
            side = Side.SELL if qty > ZERO else Side.BUY
            held = self._free(s, symbol) if side is Side.SELL else abs(qty)
            reason = "" if abs(qty) <= held else f"protect {abs(qty)} {symbol}: only {held} free to sell"
            stop_type = OrderType.STOP if protection.stop_limit_price is None else OrderType.STOP_LIMIT
            legs: list[tuple[ClientOrderId, OrderType, Decimal | None, Decimal | None, ClientOrderId | None]] = [
                (client_order_id, stop_type, protection.stop_limit_price, protection.stop_price, None)]
            if protection.take_profit is not None:
                legs.append((ClientOrderId(f"{client_order_id}-tp"[:64]), OrderType.LIMIT, protection.take_profit,
                             None, client_order_id))
            for cid, otype, limit, stop, parent in legs:
                s.add(PaperOrderRow(
                    client_order_id=cid, account=self.account, broker_order_id=_broker_id(self.account, cid),
                    symbol=symbol, side=side.value, qty=abs(qty), order_type=otype.value, limit_price=limit,
                    status=(OrderStatus.REJECTED if reason else OrderStatus.SUBMITTED).value, filled_qty=ZERO,
                    avg_fill_price=None, reject_reason=reason, submitted_at=now, updated_at=now, stop_price=stop,
                    time_in_force=TimeInForce.GTC.value, parent_client_order_id=parent))
            s.flush()
            placed = s.get(PaperOrderRow, client_order_id)
            assert placed is not None
            return _order(placed)

    def open_orders(self) -> Sequence[Order]:
        """Return the account's working orders, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(select(PaperOrderRow).where(PaperOrderRow.account == self.account,
                                                         PaperOrderRow.status == OrderStatus.SUBMITTED.value)
                             .order_by(PaperOrderRow.submitted_at, PaperOrderRow.client_order_id))
            return [_order(r) for r in rows]

    def fills_since(self, since: datetime | None) -> Sequence[Fill]:
        """Return the account's fills after since, oldest first."""
        with self._sessions() as s:
            q = select(PaperFillRow).where(PaperFillRow.account == self.account)
            if since is not None:
                q = q.where(PaperFillRow.ts > since)
            return [_fill(r) for r in s.scalars(q.order_by(PaperFillRow.ts, PaperFillRow.fill_id))]

    def positions(self) -> Sequence[Position]:
        """Return the account's non-zero positions."""
        with self._sessions() as s:
            rows = s.scalars(select(PaperPositionRow).where(PaperPositionRow.account == self.account))
            return [Position(Symbol(r.symbol), r.qty, r.avg_price) for r in rows if r.qty != ZERO]

    def cash(self) -> Decimal:
        """Return the account's cash."""
        with self._sessions() as s:
            return self._account(s).cash

    # --- simulation ------------------------------------------------------------------------

    def on_quotes(self, quotes: Mapping[str, Quote]) -> list[Fill]:
        """Fill or expire working orders against the first quote after their submission."""
        fills: list[Fill] = []
        with transaction(self._sessions) as s:
            acct = self._account(s)
            working = s.scalars(
                select(PaperOrderRow)
                .where(PaperOrderRow.account == self.account)
                .where(PaperOrderRow.status == OrderStatus.SUBMITTED.value)
                .order_by(PaperOrderRow.submitted_at, PaperOrderRow.client_order_id)
            ).all()
            for order in working:
                if order.status != OrderStatus.SUBMITTED.value:
                    continue  # the other leg of its one-cancels-other pair filled earlier in this loop
                quote = quotes.get(order.symbol)
                if quote is None or quote.ts < order.submitted_at:
                    continue  # no price since the order was sent: it keeps resting
                fill = self._try_fill(s, acct, order, quote)
                if fill is not None:
                    fills.append(fill)
        return fills

    def _try_fill(self, s: Session, acct: PaperAccountRow, order: PaperOrderRow, q: Quote) -> Fill | None:
        side = Side(order.side)
        price = self._fill_price(order, side, q)
        if price is None:
            if order.time_in_force == TimeInForce.GTC.value:
                _trail(order, side, q)  # a GTC order keeps working; a trailing stop follows the best price
                return None
            # A day order that the next session never reached expires unfilled.
            order.status, order.updated_at = OrderStatus.EXPIRED.value, q.ts
            return None
        commission = (order.qty * price * self._commission).quantize(CASH_Q, ROUND_HALF_UP)
        cost = order.qty * price + commission if side is Side.BUY else ZERO
        if side is Side.BUY and cost > acct.cash:
            order.status, order.updated_at = OrderStatus.REJECTED.value, q.ts
            order.reject_reason = f"insufficient cash at fill: need {cost:.2f}, have {acct.cash:.2f}"
            return None
        fill = Fill(
            fill_id=f"{order.broker_order_id}-1",
            client_order_id=ClientOrderId(order.client_order_id),
            symbol=Symbol(order.symbol),
            side=side,
            qty=order.qty,
            price=price,
            commission=commission,
            ts=max(q.ts, order.submitted_at + self._latency),
        )
        acct.cash += fill.cash_delta
        self._apply_position(s, fill)
        order.status, order.filled_qty, order.avg_fill_price, order.updated_at = (
            OrderStatus.FILLED.value, order.qty, price, fill.ts,
        )
        s.add(PaperFillRow(account=self.account, **_fill_fields(fill)))
        self._cancel_siblings(s, order, fill.ts)
        return fill

    def _cancel_siblings(self, s: Session, order: PaperOrderRow, ts: datetime) -> None:
        parent = order.parent_client_order_id or order.client_order_id
        siblings = s.scalars(select(PaperOrderRow).where(
            PaperOrderRow.account == self.account, PaperOrderRow.status == OrderStatus.SUBMITTED.value,
            (PaperOrderRow.parent_client_order_id == parent) | (PaperOrderRow.client_order_id == parent)))
        for sib in siblings:
            if sib.client_order_id != order.client_order_id:
                sib.status, sib.updated_at = OrderStatus.CANCELED.value, ts

    def _fill_price(self, order: PaperOrderRow, side: Side, q: Quote) -> Decimal | None:
        slip = self._slippage if side is Side.BUY else -self._slippage
        market = (q.open * (1 + slip)).quantize(PRICE_Q, ROUND_HALF_UP)
        otype = OrderType(order.order_type)
        if otype is OrderType.MARKET:
            return market
        if otype in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP):
            return _stop_fill(order, side, q, slip)
        limit = order.limit_price
        assert limit is not None
        if side is Side.BUY:
            return min(market, limit) if q.low <= limit else None
        return max(market, limit) if q.high >= limit else None

    def _apply_position(self, s: Session, fill: Fill) -> None:
        pos = s.get(PaperPositionRow, (self.account, fill.symbol))
        if pos is None:
            pos = PaperPositionRow(account=self.account, symbol=fill.symbol, qty=ZERO, avg_price=ZERO)
            s.add(pos)
        new_qty = pos.qty + fill.signed_qty
        if pos.qty == ZERO or (pos.qty > 0) == (fill.signed_qty > 0):
            # Adding to (or opening) a position moves the average; reducing it does not.
            pos.avg_price = ((pos.qty * pos.avg_price + fill.signed_qty * fill.price) / new_qty).quantize(PRICE_Q)
        elif new_qty != ZERO and (new_qty > 0) != (pos.qty > 0):
            pos.avg_price = fill.price  # flipped through zero: the remainder opened at this price
        pos.qty = new_qty
        if new_qty == ZERO:
            pos.avg_price = ZERO

    def _free(self, s: Session, symbol: str) -> Decimal:
        """Return the held quantity not yet promised to working sells (a one-cancels-other pair counts once)."""
        pos = s.get(PaperPositionRow, (self.account, symbol))
        pending = sum((o.qty for o in s.scalars(select(PaperOrderRow).where(
            PaperOrderRow.account == self.account, PaperOrderRow.symbol == symbol,
            PaperOrderRow.side == Side.SELL.value, PaperOrderRow.status == OrderStatus.SUBMITTED.value,
            PaperOrderRow.parent_client_order_id.is_(None)))), ZERO)
        return (pos.qty if pos else ZERO) - pending

    def _account(self, s: Session) -> PaperAccountRow:
        acct = s.get(PaperAccountRow, self.account)
        if acct is None:
            raise BrokerError(f"paper account {self.account!r} does not exist: open it first")
        return acct

    def _rejection(self, s: Session, acct: PaperAccountRow, intent: OrderIntent) -> str:
        if intent.side is Side.SELL and not self._allow_short:
            free = self._free(s, intent.symbol)
            if intent.qty > free:
                return f"short selling disabled: sell {intent.qty} {intent.symbol} but only {free} free"
        if intent.side is Side.BUY and intent.reference_price is not None:
            need = intent.qty * intent.reference_price
            if need > acct.cash:
                return f"insufficient buying power: need {need:.2f}, have {acct.cash:.2f}"
        return ""


def _initial_stop(intent: OrderIntent) -> Decimal | None:
    if intent.order_type is not OrderType.TRAILING_STOP or intent.reference_price is None:
        return intent.stop_price
    assert intent.trail_percent is not None
    step = intent.reference_price * intent.trail_percent / 100
    return (intent.reference_price - step if intent.side is Side.SELL else intent.reference_price + step).quantize(
        PRICE_Q, ROUND_HALF_UP)


def _stop_fill(order: PaperOrderRow, side: Side, q: Quote, slip: Decimal) -> Decimal | None:
    """Return the fill price of a stop the quote triggers: the stop, or the open when the price gapped through it."""
    if order.stop_price is None:  # a trailing stop sent without a reference price starts trailing at this quote
        _trail(order, side, Quote.at(q.ts, q.open))
        return None
    stop = order.stop_price
    if side is Side.SELL and q.low > stop or side is Side.BUY and q.high < stop:
        return None
    trigger = min(q.open, stop) if side is Side.SELL else max(q.open, stop)
    if OrderType(order.order_type) is OrderType.STOP_LIMIT:
        limit = order.limit_price
        assert limit is not None
        # Triggered, it rests as a limit: it fills only if the limit is still reachable at the trigger.
        if side is Side.SELL and trigger < limit or side is Side.BUY and trigger > limit:
            return None
        return trigger
    return (trigger * (1 + slip)).quantize(PRICE_Q, ROUND_HALF_UP)


def _trail(order: PaperOrderRow, side: Side, q: Quote) -> None:
    """Move a trailing stop toward the best price seen; it never moves back."""
    if OrderType(order.order_type) is not OrderType.TRAILING_STOP or order.trail_percent is None:
        return
    best = q.high if side is Side.SELL else q.low
    step = best * order.trail_percent / 100
    stop = (best - step if side is Side.SELL else best + step).quantize(PRICE_Q, ROUND_HALF_UP)
    if order.stop_price is None or (side is Side.SELL and stop > order.stop_price) or (
            side is Side.BUY and stop < order.stop_price):
        order.stop_price, order.updated_at = stop, q.ts


def _broker_id(account: str, client_order_id: str) -> str:
    return "po-" + hashlib.sha256(f"{account}|{client_order_id}".encode()).hexdigest()[:20]


def _order(r: PaperOrderRow) -> Order:
    return Order(
        client_order_id=ClientOrderId(r.client_order_id),
        symbol=Symbol(r.symbol),
        side=Side(r.side),
        qty=r.qty,
        order_type=OrderType(r.order_type),
        status=OrderStatus(r.status),
        submitted_at=r.submitted_at,
        broker_order_id=r.broker_order_id,
        limit_price=r.limit_price,
        filled_qty=r.filled_qty,
        avg_fill_price=r.avg_fill_price,
        reject_reason=r.reject_reason,
        stop_price=r.stop_price,
        parent_client_order_id=ClientOrderId(r.parent_client_order_id) if r.parent_client_order_id else None,
        updated_at=r.updated_at,
    )


def _fill_fields(f: Fill) -> dict[str, object]:
    return {
        "fill_id": f.fill_id, "client_order_id": f.client_order_id, "symbol": f.symbol, "side": f.side.value,
        "qty": f.qty, "price": f.price, "commission": f.commission, "ts": f.ts,
    }


def _fill(r: PaperFillRow) -> Fill:
    return Fill(
        fill_id=r.fill_id, client_order_id=ClientOrderId(r.client_order_id), symbol=Symbol(r.symbol),
        side=Side(r.side), qty=r.qty, price=r.price, commission=r.commission, ts=r.ts,
    )
