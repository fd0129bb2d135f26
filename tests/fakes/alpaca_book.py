"""The order book behind FakeAlpacaTradingServer: Alpaca's order lifecycle, positions, cash and FILL activities.

Thread-safe; every state change is pushed to `on_event` as a trade_updates payload in Alpaca's JSON format.
Orders, positions and activities are served in Alpaca's shapes (numbers as strings, RFC 3339 times).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

ZERO = Decimal("0")
WORKING = frozenset({"new", "accepted", "partially_filled", "held", "pending_new"})
TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")


class Refusal(Exception):
    """A request Alpaca refuses: HTTP status plus its {"code", "message"} body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def now_text(clock: Callable[[], datetime]) -> str:
    """Return the clock's time as Alpaca writes it (microseconds, Z)."""
    return clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


@dataclass
class FakeOrder:
    """One order at the fake broker (a parent or a bracket/OTO/OCO leg)."""

    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    type: str
    time_in_force: str
    order_class: str
    created_at: str
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    extended_hours: bool = False
    status: str = "accepted"
    filled_qty: Decimal = ZERO
    filled_avg_price: Decimal | None = None
    updated_at: str = ""
    hwm: Decimal | None = None
    triggered: bool = False
    parent: FakeOrder | None = None
    legs: list[FakeOrder] = field(default_factory=list)

    @property
    def working(self) -> bool:
        """Return True while the order can still fill."""
        return self.status in WORKING

    def as_json(self, nested: bool = True) -> dict[str, Any]:
        """Return the order as Alpaca's REST API and trade_updates show it."""
        crypto = "/" in self.symbol
        out: dict[str, Any] = {
            "id": self.id, "client_order_id": self.client_order_id, "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at, "submitted_at": self.created_at,
            "filled_at": self.updated_at if self.status == "filled" else None, "expired_at": None,
            "canceled_at": self.updated_at if self.status == "canceled" else None, "failed_at": None,
            "replaced_at": None, "replaced_by": None, "replaces": None, "asset_id": str(uuid.uuid5(
                uuid.NAMESPACE_URL, self.symbol)), "symbol": self.symbol,
            "asset_class": "crypto" if crypto else "us_equity", "notional": None, "qty": _s(self.qty),
            "filled_qty": _s(self.filled_qty), "filled_avg_price": _s(self.filled_avg_price),
            "order_class": self.order_class, "order_type": self.type, "type": self.type, "side": self.side,
            "time_in_force": self.time_in_force, "limit_price": _s(self.limit_price),
            "stop_price": _s(self.stop_price), "status": self.status, "extended_hours": self.extended_hours,
            "legs": None, "trail_percent": _s(self.trail_percent), "trail_price": None, "hwm": _s(self.hwm),
            "position_intent": None,
        }
        if nested and self.legs:
            out["legs"] = [leg.as_json(False) for leg in self.legs]
        return out


def _num(body: dict, key: str, required: bool = False) -> Decimal | None:
    value = body.get(key)
    if value in (None, ""):
        if required:
            raise Refusal(422, 40010001, f"{key} is required")
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise Refusal(422, 40010001, f"invalid {key}: {value!r}") from None
    if number <= 0:
        raise Refusal(422, 40010001, f"{key} must be > 0")
    return number


class AlpacaBook:
    """One account: orders by id and client id, positions, cash, FILL activities and the last price per symbol."""

    def __init__(self, cash: Decimal, clock: Callable[[], datetime], on_event: Callable[[dict], None],
                 *, enforce_unique_client_ids: bool = True, fill_chunks: int = 1) -> None:
        self.cash = Decimal(cash)
        self.clock = clock
        self.on_event = on_event
        self.enforce_unique = enforce_unique_client_ids
        self.fill_chunks = max(1, fill_chunks)
        self.lock = threading.RLock()
        self.orders: dict[str, FakeOrder] = {}
        self.by_client_id: dict[str, list[FakeOrder]] = {}
        self.created: list[FakeOrder] = []  # parents created by POST, in order
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, avg price)
        self.activities: list[dict[str, Any]] = []
        self.prices: dict[str, Decimal] = {}
        self.fill_delay = 0.0
        self._timers: list[threading.Timer] = []

    # --- creation --------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an order (with its legs) like POST /v2/orders and return it as accepted; Refusal when Alpaca would."""
        with self.lock:
            cid = str(body.get("client_order_id") or uuid.uuid4())
            if len(cid) > 128:
                raise Refusal(422, 40010001, "client_order_id must be no more than 128 characters")
            if self.enforce_unique and cid in self.by_client_id:
                raise Refusal(422, 40010001, "client_order_id must be unique")
            order = self._parse(body, cid)
            self._check_funds(order)
            for o in [order, *order.legs]:
                self.orders[o.id] = o
                self.by_client_id.setdefault(o.client_order_id, []).append(o)
            self.created.append(order)
            self._emit("new", order, status="new")
            for leg in order.legs:
                if leg.status == "new":
                    self._emit("new", leg)
            # Alpaca answers before the order trades: the reply shows it new, fills come after.
            snapshot = order.as_json()
        if self.fill_delay > 0:
            timer = threading.Timer(self.fill_delay, self._match_all)
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        else:
            self._match_all()
        return snapshot

    def _parse(self, body: dict[str, Any], cid: str) -> FakeOrder:
        symbol, side, kind = str(body.get("symbol") or ""), body.get("side"), body.get("type")
        if not symbol:
            raise Refusal(422, 40010001, "symbol is required")
        if side not in ("buy", "sell"):
            raise Refusal(422, 40010001, f"invalid side: {side!r}")
        if kind not in TYPES:
            raise Refusal(422, 40010001, f"invalid order type: {kind!r}")
        tif, klass = body.get("time_in_force"), body.get("order_class") or "simple"
        crypto = "/" in symbol
        if crypto and tif not in ("gtc", "ioc"):
            raise Refusal(422, 40010001, "invalid crypto time_in_force")
        if crypto and klass != "simple":
            raise Refusal(422, 42210000, f"{klass} orders are not supported for crypto")
        qty = _num(body, "qty", required=True) or ZERO
        stamp = now_text(self.clock)
        order = FakeOrder(str(uuid.uuid4()), cid, symbol, str(side), qty, str(kind), str(tif), klass, stamp,
                          limit_price=_num(body, "limit_price", kind in ("limit", "stop_limit") and klass != "oco"),
                          stop_price=_num(body, "stop_price", kind in ("stop", "stop_limit")),
                          trail_percent=_num(body, "trail_percent", kind == "trailing_stop"),
                          extended_hours=bool(body.get("extended_hours")), updated_at=stamp)
        if order.extended_hours and (kind != "limit" or tif != "day"):
            raise Refusal(422, 42210000, "extended hours order must be DAY limit orders")
        price = order.limit_price
        if not crypto and price is not None and price >= 1 and price != price.quantize(Decimal("0.01")):
            raise Refusal(422, 42210000, f"invalid limit_price {price}. sub-penny increment does not fulfill "
                                         "minimum pricing criteria")
        if kind == "trailing_stop" and symbol in self.prices:
            order.hwm = self.prices[symbol]
        if klass in ("bracket", "oto", "oco"):
            self._add_legs(order, body)
        return order

    def _add_legs(self, order: FakeOrder, body: dict[str, Any]) -> None:
        take, stop = body.get("take_profit") or {}, body.get("stop_loss") or {}
        if order.order_class in ("bracket", "oco") and not (take and stop):
            raise Refusal(422, 40010001, f"{order.order_class} orders require take_profit and stop_loss")
        if order.order_class == "oto" and not (take or stop):
            raise Refusal(422, 40010001, "oto orders require take_profit or stop_loss")
        # Bracket/OTO legs exit the entry; an OCO's legs are both exits on the same side.
        exit_side = order.side if order.order_class == "oco" else ("sell" if order.side == "buy" else "buy")
        held = "new" if order.order_class == "oco" else "held"
        stamp = order.created_at
        if order.order_class == "oco":
            # The parent is the take-profit limit; its one leg is the stop.
            order.limit_price = _num(take, "limit_price", required=True)
        elif take:
            order.legs.append(FakeOrder(str(uuid.uuid4()), str(uuid.uuid4()), order.symbol, exit_side, order.qty,
                                        "limit", order.time_in_force, order.order_class, stamp,
                                        limit_price=_num(take, "limit_price", required=True), status=held,
                                        parent=order))
        if stop:
            stop_limit = _num(stop, "limit_price")
            order.legs.append(FakeOrder(str(uuid.uuid4()), str(uuid.uuid4()), order.symbol, exit_side, order.qty,
                                        "stop_limit" if stop_limit else "stop", order.time_in_force,
                                        order.order_class, stamp, limit_price=stop_limit,
                                        stop_price=_num(stop, "stop_price", required=True), status=held,
                                        parent=order))
        if order.order_class == "oco":
            order.status = "new"

    def _check_funds(self, order: FakeOrder) -> None:
        if order.side == "buy":
            price = order.limit_price or order.stop_price or self.prices.get(order.symbol) or ZERO
            committed = sum((o.qty * (o.limit_price or self.prices.get(o.symbol, ZERO))
                             for o in self.orders.values() if o.working and o.side == "buy" and o.parent is None),
                            ZERO)
            if order.qty * price + committed > self.cash:
                raise Refusal(403, 40310000, "insufficient buying power")
            return
        held = self.positions.get(order.symbol, (ZERO, ZERO))[0]
        groups: dict[str, Decimal] = {}
        for o in self.orders.values():
            if o.working and o.side == "sell" and o.status != "held" and o.symbol == order.symbol:
                key = o.parent.id if o.parent is not None else o.id
                groups[key] = max(groups.get(key, ZERO), o.qty - o.filled_qty)
        available = held - sum(groups.values(), ZERO)
        if order.qty > available:
            raise Refusal(403, 40310000, f"insufficient qty available for order (requested: {_s(order.qty)}, "
                                         f"available: {_s(max(available, ZERO))})")

    # --- matching --------------------------------------------------------------------------------

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market: working orders that are now marketable fill, stops and trailing stops trigger."""
        with self.lock:
            self.prices[symbol] = Decimal(price)
        self._match_all()

    def _match_all(self) -> None:
        with self.lock:
            progressed = True
            while progressed:
                progressed = False
                for order in list(self.orders.values()):
                    if order.working and order.status != "held" and self._try_fill(order):
                        progressed = True

    def _try_fill(self, o: FakeOrder) -> bool:
        price = self.prices.get(o.symbol)
        if price is None:
            return False
        buy = o.side == "buy"
        if o.type == "trailing_stop":
            o.hwm = price if o.hwm is None else (min(o.hwm, price) if buy else max(o.hwm, price))
            pct = (o.trail_percent or ZERO) / Decimal(100)
            o.stop_price = o.hwm * (1 + pct) if buy else o.hwm * (1 - pct)
        if o.type in ("stop", "stop_limit", "trailing_stop") and not o.triggered:
            if (buy and price < o.stop_price) or (not buy and price > o.stop_price):  # type: ignore[operator]
                return False
            o.triggered = True
        limit = o.limit_price if o.type in ("limit", "stop_limit") else None
        if limit is not None and ((buy and price > limit) or (not buy and price < limit)):
            return False
        self._fill(o, price)
        return True

    def _fill(self, o: FakeOrder, price: Decimal) -> None:
        chunk = (o.qty / self.fill_chunks).quantize(Decimal("0.000000001"))
        for i in range(self.fill_chunks):
            remaining = o.qty - o.filled_qty
            if remaining <= 0:
                break
            self._execute(o, remaining if i == self.fill_chunks - 1 else min(chunk, remaining), price)
        if o.parent is None:
            for leg in o.legs:
                if leg.status == "held":
                    leg.qty, leg.status, leg.updated_at = o.filled_qty, "new", now_text(self.clock)
                    self._emit("new", leg)
        self._cancel_siblings(o)

    def _execute(self, o: FakeOrder, qty: Decimal, price: Decimal) -> None:
        before = o.filled_qty
        o.filled_qty = before + qty
        o.filled_avg_price = ((o.filled_avg_price or ZERO) * before + price * qty) / o.filled_qty
        o.status = "filled" if o.filled_qty >= o.qty else "partially_filled"
        o.updated_at = stamp = now_text(self.clock)
        signed = qty if o.side == "buy" else -qty
        held, avg = self.positions.get(o.symbol, (ZERO, ZERO))
        new_qty = held + signed
        if new_qty == 0:
            self.positions.pop(o.symbol, None)
        else:
            grows = held == 0 or (held > 0) == (signed > 0)
            self.positions[o.symbol] = (new_qty, (avg * abs(held) + price * qty) / abs(new_qty) if grows else avg)
        self.cash -= signed * price
        execution_id = str(uuid.uuid4())
        event = "fill" if o.status == "filled" else "partial_fill"
        self.activities.append({
            "id": f"{self.clock().astimezone(UTC).strftime('%Y%m%d%H%M%S%f')[:17]}::{execution_id}",
            "activity_type": "FILL", "transaction_time": stamp, "type": event, "price": _s(price),
            "qty": _s(qty), "side": o.side, "symbol": o.symbol.replace("/", ""),
            "leaves_qty": _s(o.qty - o.filled_qty), "order_id": o.id, "cum_qty": _s(o.filled_qty),
            "order_status": o.status})
        self._emit(event, o, execution_id=execution_id, price=_s(price), qty=_s(qty),
                   position_qty=_s(new_qty))

    def _cancel_siblings(self, o: FakeOrder) -> None:
        if o.parent is not None and o.status == "filled" and o.order_class in ("bracket", "oco"):
            for sibling in [o.parent, *o.parent.legs]:
                if sibling is not o and sibling.working:
                    self._set_status(sibling, "canceled")
        if o.parent is None and o.order_class == "oco" and o.status == "filled":
            for leg in o.legs:
                if leg.working:
                    self._set_status(leg, "canceled")

    def _set_status(self, o: FakeOrder, status: str) -> None:
        o.status, o.updated_at = status, now_text(self.clock)
        self._emit(status, o)

    # --- queries and cancels ---------------------------------------------------------------------

    def cancel(self, order_id: str) -> None:
        """Cancel a working order and its working legs, like DELETE /v2/orders/{id}."""
        with self.lock:
            o = self.orders.get(order_id)
            if o is None:
                raise Refusal(404, 40410000, "order not found")
            if not o.working:
                raise Refusal(422, 42210000, f"order is not cancelable (status {o.status})")
            self._set_status(o, "canceled")
            for leg in o.legs:
                if leg.working:
                    self._set_status(leg, "canceled")

    def listing(self, status: str, nested: bool, limit: int) -> list[dict[str, Any]]:
        """Return orders like GET /v2/orders (status open|closed|all; nested rolls legs under parents)."""
        with self.lock:
            pool = [o for o in self.orders.values() if not (nested and o.parent is not None)]

            def wanted(o: FakeOrder) -> bool:
                family = [o, *o.legs] if nested else [o]
                is_open = any(x.working for x in family)
                return status == "all" or (status == "open") == is_open
            chosen = sorted((o for o in pool if wanted(o)), key=lambda o: o.created_at, reverse=True)[:limit]
            return [o.as_json(nested) for o in chosen]

    def account(self) -> dict[str, Any]:
        """Return the account like GET /v2/account."""
        with self.lock:
            value = sum((q * self.prices.get(s, a) for s, (q, a) in self.positions.items()), ZERO)
            return {"id": "fake-account", "account_number": "PA0000FAKE", "status": "ACTIVE", "currency": "USD",
                    "cash": _s(self.cash), "buying_power": _s(self.cash), "equity": _s(self.cash + value),
                    "portfolio_value": _s(self.cash + value), "pattern_day_trader": False,
                    "trading_blocked": False, "transfers_blocked": False, "account_blocked": False,
                    "shorting_enabled": False, "multiplier": "1", "created_at": "2024-01-02T00:00:00Z"}

    def position_list(self) -> list[dict[str, Any]]:
        """Return positions like GET /v2/positions (crypto spelled BTCUSD, as Alpaca does)."""
        with self.lock:
            out = []
            for s, (q, a) in sorted(self.positions.items()):
                price = self.prices.get(s, a)
                out.append({"asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, s)), "symbol": s.replace("/", ""),
                            "exchange": "CRYPTO" if "/" in s else "NASDAQ",
                            "asset_class": "crypto" if "/" in s else "us_equity", "qty": _s(q),
                            "avg_entry_price": _s(a), "side": "long" if q > 0 else "short",
                            "market_value": _s(q * price), "cost_basis": _s(q * a), "current_price": _s(price)})
            return out

    def activity_page(self, after: str | None, page_token: str | None, direction: str,
                      page_size: int) -> list[dict[str, Any]]:
        """Return FILL activities like GET /v2/account/activities/FILL (paged by the last id seen)."""
        with self.lock:
            items = list(self.activities) if direction == "asc" else list(reversed(self.activities))
        if after:
            cut = after.replace("Z", "+00:00")
            items = [a for a in items if datetime.fromisoformat(a["transaction_time"].replace("Z", "+00:00"))
                     > datetime.fromisoformat(cut)]
        if page_token:
            ids = [a["id"] for a in items]
            items = items[ids.index(page_token) + 1:] if page_token in ids else []
        return items[:page_size]

    def _emit(self, event: str, o: FakeOrder, *, status: str | None = None, **extra: Any) -> None:
        if status is not None:
            o.status = status
        data = {"event": event, "timestamp": now_text(self.clock), "order": o.as_json(), **extra}
        data.setdefault("execution_id", str(uuid.uuid4()))
        self.on_event({"stream": "trade_updates", "data": data})

    def close(self) -> None:
        """Cancel pending delayed-fill timers."""
        for timer in self._timers:
            timer.cancel()
