"""Alpaca order mapping: intents to alpaca-py order requests, and Alpaca JSON (orders, fills, trade updates) back.

Pure functions over dicts, shared by AlpacaBroker (REST) and AlpacaOrderStream (trade_updates).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from alpaca.trading.enums import OrderClass, OrderSide
from alpaca.trading.enums import TimeInForce as AlpacaTif
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)

from tradebot.adapters.http import parse_ts
from tradebot.domain import (
    ClientOrderId,
    Fill,
    Order,
    OrderEvent,
    OrderIntent,
    OrderStatus,
    OrderType,
    Protection,
    Side,
    Symbol,
    TimeInForce,
)

ZERO = Decimal("0")
# Alpaca reports crypto positions and activities as BTCUSD while orders and our config say BTC/USD.
_CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")

_ORDER_STATUS = {
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    # A replaced order no longer works; its replacement carries on under another id.
    "replaced": OrderStatus.CANCELED,
}
# Trade-update events that say what the order now is; the rest (pending_*, *_rejected, done_for_day...)
# fall back to the order snapshot's own status.
_EVENT_STATUS = {
    "new": OrderStatus.SUBMITTED,
    "accepted": OrderStatus.SUBMITTED,
    "pending_new": OrderStatus.SUBMITTED,
    "partial_fill": OrderStatus.PARTIALLY_FILLED,
    "fill": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    "replaced": OrderStatus.CANCELED,
}
FILL_EVENTS = frozenset({"fill", "partial_fill"})


def is_crypto(symbol: str) -> bool:
    """Return True for pairs like BTC/USD (Alpaca's crypto spelling)."""
    return "/" in symbol


def our_symbol(symbol: str, asset_class: str | None = None) -> Symbol:
    """Return BTC/USD for Alpaca's BTCUSD crypto spelling; equities unchanged."""
    if asset_class == "crypto" and "/" not in symbol:
        for quote in _CRYPTO_QUOTES:
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return Symbol(f"{symbol[: -len(quote)]}/{quote}")
    return Symbol(symbol)


def dec(value: Any) -> Decimal:
    """Parse one of Alpaca's numeric strings exactly (floats go through str, never binary)."""
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def dec_or_none(value: Any) -> Decimal | None:
    """Parse an optional numeric field; None and empty stay None."""
    return None if value in (None, "") else dec(value)


def order_status(raw_status: str) -> OrderStatus:
    """Map Alpaca's order status (new, accepted, held, partially_filled, ...) to ours."""
    return _ORDER_STATUS.get(raw_status, OrderStatus.SUBMITTED)


def _f(value: Decimal) -> float:
    # alpaca-py's request models take floats; prices and quantities up to 15 significant digits round-trip.
    return float(value)


def _f_opt(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def time_in_force(intent: OrderIntent) -> AlpacaTif:
    """Return gtc for crypto (Alpaca refuses day there) and for gtc intents, else day."""
    return AlpacaTif.GTC if is_crypto(intent.symbol) or intent.time_in_force is TimeInForce.GTC else AlpacaTif.DAY


def _legs(protection: Protection) -> dict[str, Any]:
    stop = StopLossRequest(stop_price=_f(protection.stop_price), limit_price=_f_opt(protection.stop_limit_price))
    if protection.take_profit is None:
        return {"order_class": OrderClass.OTO, "stop_loss": stop}
    return {"order_class": OrderClass.BRACKET, "stop_loss": stop,
            "take_profit": TakeProfitRequest(limit_price=float(protection.take_profit))}


def order_request(intent: OrderIntent) -> OrderRequest:
    """Build the alpaca-py request for intent; protection makes it a bracket (stop + target) or OTO (stop)."""
    common: dict[str, Any] = {
        "symbol": intent.symbol, "qty": _f(intent.qty), "side": OrderSide(intent.side.value),
        "time_in_force": time_in_force(intent), "client_order_id": intent.client_order_id,
    }
    if intent.extended_hours:
        common["extended_hours"] = True
    if intent.protection is not None:
        common.update(_legs(intent.protection))
    kind = intent.order_type
    if kind is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if kind is OrderType.LIMIT:
        return LimitOrderRequest(limit_price=_f_opt(intent.limit_price), **common)
    if kind is OrderType.STOP:
        return StopOrderRequest(stop_price=_f_opt(intent.stop_price), **common)
    if kind is OrderType.STOP_LIMIT:
        return StopLimitOrderRequest(stop_price=_f_opt(intent.stop_price), limit_price=_f_opt(intent.limit_price),
                                     **common)
    return TrailingStopOrderRequest(trail_percent=_f_opt(intent.trail_percent), **common)


def protect_request(symbol: Symbol, qty: Decimal, protection: Protection,
                    client_order_id: ClientOrderId) -> OrderRequest:
    """Build the exit for a holding: an OCO (take-profit limit + stop) or a lone stop / stop-limit."""
    side = OrderSide.SELL if qty > ZERO else OrderSide.BUY  # a short is protected by buying back
    tif = AlpacaTif.GTC
    common: dict[str, Any] = {"symbol": symbol, "qty": _f(abs(qty)), "side": side, "time_in_force": tif,
                              "client_order_id": client_order_id}
    if protection.take_profit is not None:
        stop = StopLossRequest(stop_price=_f(protection.stop_price), limit_price=_f_opt(protection.stop_limit_price))
        # Alpaca's OCO names its target only in take_profit; the parent limit leg takes that price.
        return LimitOrderRequest(order_class=OrderClass.OCO,
                                 take_profit=TakeProfitRequest(limit_price=float(protection.take_profit)),
                                 stop_loss=stop, **common)
    if protection.stop_limit_price is not None:
        return StopLimitOrderRequest(stop_price=_f(protection.stop_price),
                                     limit_price=_f(protection.stop_limit_price), **common)
    return StopOrderRequest(stop_price=_f(protection.stop_price), **common)


def to_order(raw: Mapping[str, Any], parent: ClientOrderId | None = None) -> Order:
    """Map one Alpaca order JSON object to our Order (legs are not flattened here)."""
    submitted = raw.get("submitted_at") or raw["created_at"]
    updated = raw.get("updated_at")
    return Order(
        client_order_id=ClientOrderId(raw["client_order_id"]),
        symbol=our_symbol(raw["symbol"], raw.get("asset_class")),
        side=Side(raw["side"]),
        qty=dec(raw.get("qty") or "0"),
        order_type=OrderType(raw.get("type") or raw["order_type"]),
        status=order_status(raw["status"]),
        submitted_at=parse_ts(submitted),
        broker_order_id=str(raw["id"]),
        limit_price=dec_or_none(raw.get("limit_price")),
        filled_qty=dec(raw.get("filled_qty") or "0"),
        avg_fill_price=dec_or_none(raw.get("filled_avg_price")),
        stop_price=dec_or_none(raw.get("stop_price")),
        parent_client_order_id=parent,
        updated_at=parse_ts(updated) if updated else None,
    )


def with_legs(raw: Mapping[str, Any]) -> list[Order]:
    """Return the order and its nested legs (bracket/OTO/OCO), legs pointing at the parent's client id."""
    parent = to_order(raw)
    return [parent] + [to_order(leg, parent.client_order_id) for leg in raw.get("legs") or ()]


def fill_key(order_id: str, cum_qty: Any) -> str:
    """Return one fill's identity in both channels: the order id and its cumulative filled quantity after it.

    A FILL activity's id and a trade update's execution_id are different names for one execution, so
    neither can de-duplicate a fill seen once over REST and once over the stream; (order, cum_qty) can.
    """
    return f"{order_id}:{dec(cum_qty).normalize():f}"


def activity_fill(raw: Mapping[str, Any], order: Order) -> Fill:
    """Map one FILL activity of order to a Fill (no commission on these; Alpaca books crypto fees as CFEE)."""
    return Fill(
        fill_id=fill_key(raw["order_id"], raw["cum_qty"]),
        client_order_id=order.client_order_id,
        symbol=order.symbol,  # the activity spells crypto BTCUSD; the order says BTC/USD
        side=Side(raw["side"]),
        qty=dec(raw["qty"]),
        price=dec(raw["price"]),
        commission=ZERO,
        ts=parse_ts(raw["transaction_time"]),
    )


def trade_update_event(data: Mapping[str, Any]) -> OrderEvent:
    """Map one trade_updates payload ({"event", "order", "timestamp", ...}) to an OrderEvent with its Fill."""
    event = str(data["event"])
    order = data["order"]
    status = _EVENT_STATUS.get(event) or order_status(order["status"])
    stamp = data.get("timestamp") or order.get("updated_at")
    ts = parse_ts(stamp)
    execution_id = data.get("execution_id")
    # A redelivered event carries the same execution id (or the same order, event and time).
    event_id = str(execution_id) if execution_id else f"{order['id']}:{event}:{stamp}"
    cid = ClientOrderId(order["client_order_id"])
    fill = None
    if event in FILL_EVENTS:
        fill = Fill(
            fill_id=fill_key(order["id"], order["filled_qty"]) if order.get("filled_qty") else event_id,
            client_order_id=cid,
            symbol=our_symbol(order["symbol"], order.get("asset_class")),
            side=Side(order["side"]),
            qty=dec(data["qty"]),
            price=dec(data["price"]),
            commission=ZERO,
            ts=ts,
        )
    return OrderEvent(event_id=event_id, client_order_id=cid, broker_order_id=str(order["id"]), status=status,
                      ts=ts, fill=fill)
