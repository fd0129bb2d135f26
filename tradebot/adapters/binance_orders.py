"""Binance spot symbols, exchange filters and the translation between our orders and Binance's JSON."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from tradebot.domain import ZERO, ClientOrderId, Fill, Order, OrderIntent, OrderStatus, OrderType, Side, Symbol

CLIENT_ID_MAX = 36  # Binance: newClientOrderId matches ^[.A-Z:/a-z0-9_-]{1,36}$
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-")
BPS = Decimal("10000")

STATUS = {
    "NEW": OrderStatus.SUBMITTED,
    "PENDING_NEW": OrderStatus.SUBMITTED,  # a pending leg of an order list
    "PENDING_CANCEL": OrderStatus.SUBMITTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,  # self-trade prevention
}
ORDER_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "TAKE_PROFIT_LIMIT": OrderType.LIMIT,
    "STOP_LOSS": OrderType.STOP,
    "TAKE_PROFIT": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
}


class LocalReject(ValueError):
    """An order Binance would refuse, caught before any network call; the message says why."""


def dec(value: object) -> Decimal:
    """Parse a Binance decimal string (never through float)."""
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"binance sent {value!r} where a decimal was expected") from None


def fmt(value: Decimal) -> str:
    """Format a Decimal the way Binance accepts it: plain notation, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def ms_to_dt(ms: object) -> datetime:
    """Convert Binance's epoch milliseconds to an aware UTC datetime."""
    return datetime.fromtimestamp(int(ms) / 1000, UTC)  # type: ignore[call-overload]


def dt_to_ms(dt: datetime) -> int:
    """Convert an aware datetime to epoch milliseconds."""
    return int(dt.timestamp() * 1000)


def derived_id(client_order_id: str, suffix: str) -> str:
    """Return a client id for a leg or list derived from ours, hashed short when it would pass 36 chars."""
    if len(client_order_id) + len(suffix) <= CLIENT_ID_MAX:
        return client_order_id + suffix
    digest = hashlib.sha256(client_order_id.encode()).hexdigest()[: CLIENT_ID_MAX - len(suffix) - 3]
    return f"tb-{digest}{suffix}"


def protection_client_order_id(entry: str) -> ClientOrderId:
    """Return the list client id of the OCO that protects the entry placed under `entry`."""
    return ClientOrderId(derived_id(entry, "-oco"))


def check_client_id(client_order_id: str) -> None:
    """Raise LocalReject when Binance would refuse the id's length or characters."""
    if not 1 <= len(client_order_id) <= CLIENT_ID_MAX or not set(client_order_id) <= _ID_CHARS:
        raise LocalReject(f"client order id {client_order_id!r} is not a valid Binance id "
                          f"(1-{CLIENT_ID_MAX} of letters, digits and . _ : / -)")


class BinanceSymbols:
    """Maps our symbols (BTC/USD) to Binance pairs (BTCUSDT) and back; explicit entries win over the quote map."""

    def __init__(self, quote_map: Mapping[str, str] | None = None, symbol_map: Mapping[str, str] | None = None,
                 quote_asset: str = "USDT") -> None:
        # Binance quotes dollars as USDT: a USD pair here means the USDT book there.
        self.quote_map = {k.upper(): v.upper() for k, v in (quote_map or {"USD": "USDT"}).items()}
        self.symbol_map = {k.upper(): v.upper() for k, v in (symbol_map or {}).items()}
        self.quote_asset = quote_asset.upper()
        self._reverse = {v: Symbol(k) for k, v in self.symbol_map.items()}

    def pair(self, symbol: str) -> str:
        """Map BTC/USD to BTCUSDT; anything that is not a BASE/QUOTE pair raises LocalReject naming it."""
        key = symbol.strip().upper()
        if key in self.symbol_map:
            return self.symbol_map[key]
        base, sep, quote = key.partition("/")
        if not sep or not base.isalnum() or not quote.isalnum():
            raise LocalReject(f"binance trades crypto pairs like BTC/USD, not {symbol!r}")
        pair = f"{base}{self.quote_map.get(quote, quote)}"
        self._reverse.setdefault(pair, Symbol(key))
        return pair

    def symbol(self, pair: str, base: str | None = None) -> Symbol:
        """Map a Binance pair back to our symbol (needs the base asset for pairs never mapped forward)."""
        if pair in self._reverse:
            return self._reverse[pair]
        if base is None:
            for quote, venue_quote in self.quote_map.items():
                if pair.endswith(venue_quote) and len(pair) > len(venue_quote):
                    return Symbol(f"{pair[: -len(venue_quote)]}/{quote}")
            return Symbol(pair)
        venue_quote = pair[len(base):]
        ours = next((k for k, v in self.quote_map.items() if v == venue_quote), venue_quote)
        return Symbol(f"{base}/{ours}")

    def asset_symbol(self, asset: str) -> Symbol:
        """Return our symbol for holding `asset` against the quote asset."""
        return self.symbol(self.pair_of_asset(asset), base=asset)

    def pair_of_asset(self, asset: str) -> str:
        """Return the Binance pair that prices asset in the quote asset."""
        return f"{asset.upper()}{self.quote_asset}"


@dataclass(frozen=True, slots=True)
class PairRules:
    """A pair's trading filters from exchangeInfo (LOT_SIZE, PRICE_FILTER, NOTIONAL)."""

    pair: str
    base: str
    quote: str
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    tick: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal
    order_types: frozenset[str]

    @classmethod
    def parse(cls, info: Mapping) -> PairRules:
        """Build rules from one exchangeInfo `symbols` entry."""
        filters = {f["filterType"]: f for f in info.get("filters", [])}
        lot, price = filters.get("LOT_SIZE", {}), filters.get("PRICE_FILTER", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        return cls(pair=info["symbol"], base=info.get("baseAsset", ""), quote=info.get("quoteAsset", ""),
                   step=dec(lot.get("stepSize", "0")), min_qty=dec(lot.get("minQty", "0")),
                   max_qty=dec(lot.get("maxQty", "0")), tick=dec(price.get("tickSize", "0")),
                   min_price=dec(price.get("minPrice", "0")), max_price=dec(price.get("maxPrice", "0")),
                   min_notional=dec(notional.get("minNotional", "0")),
                   order_types=frozenset(info.get("orderTypes", ())))

    def qty(self, qty: Decimal) -> Decimal:
        """Round qty down to the lot step; LocalReject when it falls outside LOT_SIZE."""
        q = _to_step(qty, self.step, ROUND_FLOOR)
        if q <= ZERO or q < self.min_qty:
            raise LocalReject(f"{self.pair}: quantity {fmt(qty)} rounds to {fmt(q)}, below LOT_SIZE minQty "
                              f"{fmt(self.min_qty)} (step {fmt(self.step)})")
        if self.max_qty > ZERO and q > self.max_qty:
            raise LocalReject(f"{self.pair}: quantity {fmt(q)} is above LOT_SIZE maxQty {fmt(self.max_qty)}")
        return q

    def price(self, price: Decimal, *, up: bool) -> Decimal:
        """Round price to the tick (up or down); LocalReject when it falls outside PRICE_FILTER."""
        p = _to_step(price, self.tick, ROUND_CEILING if up else ROUND_FLOOR)
        too_low = p <= ZERO or (self.min_price > ZERO and p < self.min_price)
        if too_low or (self.max_price > ZERO and p > self.max_price):
            raise LocalReject(f"{self.pair}: price {fmt(price)} is outside PRICE_FILTER "
                              f"[{fmt(self.min_price)}, {fmt(self.max_price)}]")
        return p


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    if step <= ZERO:
        return value
    return ((value / step).to_integral_value(rounding=rounding) * step).normalize()


def order_params(intent: OrderIntent, pair: str, rules: PairRules, stop_band: Decimal) -> dict[str, str]:
    """Return POST /api/v3/order parameters for intent, rounded to the pair's filters.

    Limit prices round in our favour (buys down, sells up); a plain stop becomes STOP_LOSS_LIMIT
    whose limit sits stop_band beyond the stop (below for sells, above for buys), because Binance
    spot symbols generally do not enable stop-market orders.
    """
    check_client_id(intent.client_order_id)
    buy = intent.side is Side.BUY
    p: dict[str, str] = {"symbol": pair, "side": "BUY" if buy else "SELL", "quantity": fmt(rules.qty(intent.qty)),
                         "newClientOrderId": intent.client_order_id, "newOrderRespType": "FULL"}
    kind = intent.order_type
    if kind is OrderType.MARKET:
        p["type"] = "MARKET"
    elif kind is OrderType.LIMIT:
        assert intent.limit_price is not None  # OrderIntent validates this
        p.update(type="LIMIT", timeInForce="GTC", price=fmt(rules.price(intent.limit_price, up=not buy)))
    elif kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        assert intent.stop_price is not None
        stop = rules.price(intent.stop_price, up=not buy)
        limit = intent.limit_price if kind is OrderType.STOP_LIMIT else stop_limit_price(stop, buy, stop_band)
        assert limit is not None
        p.update(type="STOP_LOSS_LIMIT", timeInForce="GTC", stopPrice=fmt(stop),
                 price=fmt(rules.price(limit, up=not buy)))
    else:
        raise LocalReject(f"binance spot: {kind} orders are not supported by this adapter")
    if "price" in p and rules.min_notional > ZERO and dec(p["price"]) * dec(p["quantity"]) < rules.min_notional:
        raise LocalReject(f"{pair}: order value {fmt(dec(p['price']) * dec(p['quantity']))} is below NOTIONAL "
                          f"minNotional {fmt(rules.min_notional)}")
    return p


def stop_limit_price(stop: Decimal, buy: bool, band: Decimal) -> Decimal:
    """Return the limit of a stop-limit standing in for a stop-market order (band is a fraction)."""
    return stop * (1 + band) if buy else stop * (1 - band)


def to_order(raw: Mapping, symbol: Symbol, *, parent: ClientOrderId | None = None,
             client_order_id: str | None = None) -> Order:
    """Build an Order from Binance's order JSON (POST reply, GET /api/v3/order, openOrders, DELETE reply)."""
    executed = dec(raw.get("executedQty", "0"))
    quote = dec(raw.get("cummulativeQuoteQty", "0"))
    price, stop = dec(raw.get("price", "0")), dec(raw.get("stopPrice", "0"))
    created = raw.get("time") or raw.get("transactTime") or raw.get("workingTime") or 0
    updated = raw.get("updateTime") or raw.get("transactTime") or created
    return Order(
        client_order_id=ClientOrderId(client_order_id or raw.get("origClientOrderId") or raw["clientOrderId"]),
        symbol=symbol,
        side=Side.BUY if raw.get("side") == "BUY" else Side.SELL,
        qty=dec(raw.get("origQty", "0")),
        order_type=ORDER_TYPES.get(raw.get("type", ""), OrderType.LIMIT),
        status=STATUS.get(raw.get("status", ""), OrderStatus.SUBMITTED),
        submitted_at=ms_to_dt(created),
        broker_order_id=str(raw.get("orderId", "")),
        limit_price=price if price > ZERO else None,
        filled_qty=executed,
        avg_fill_price=(quote / executed) if executed > ZERO and quote > ZERO else None,
        stop_price=stop if stop > ZERO else None,
        parent_client_order_id=parent,
        updated_at=ms_to_dt(updated),
    )


def list_status(legs: list[Order], list_order_status: str) -> OrderStatus:
    """Return one status for an OCO from its legs: filled if a leg filled, else working or canceled."""
    if list_order_status == "REJECT":
        return OrderStatus.REJECTED
    if any(leg.status is OrderStatus.FILLED for leg in legs):
        return OrderStatus.FILLED
    if any(leg.status is OrderStatus.PARTIALLY_FILLED for leg in legs):
        return OrderStatus.PARTIALLY_FILLED
    if list_order_status == "ALL_DONE" or all(leg.status.terminal for leg in legs):
        return OrderStatus.CANCELED
    return OrderStatus.SUBMITTED


def oco_order(list_raw: Mapping, legs: list[Order], symbol: Symbol) -> Order:
    """Summarise an OCO order list as one Order: the stop leg's prices, the filled leg's fills."""
    stop_leg = next((leg for leg in legs if leg.order_type is OrderType.STOP_LIMIT), legs[0])
    filled = next((leg for leg in legs if leg.filled_qty > ZERO), None)
    ts = ms_to_dt(list_raw.get("transactionTime", 0))
    return Order(
        client_order_id=ClientOrderId(list_raw["listClientOrderId"]), symbol=symbol, side=stop_leg.side,
        qty=stop_leg.qty, order_type=OrderType.STOP_LIMIT,
        status=list_status(legs, list_raw.get("listOrderStatus", "")), submitted_at=ts,
        broker_order_id=f"list:{list_raw.get('orderListId')}", limit_price=stop_leg.limit_price,
        filled_qty=filled.filled_qty if filled else ZERO, avg_fill_price=filled.avg_fill_price if filled else None,
        stop_price=stop_leg.stop_price, updated_at=max((leg.updated_at or ts for leg in legs), default=ts))


def commission_in_quote(amount: Decimal, asset: str, rules: PairRules, price: Decimal,
                        asset_price: Decimal | None) -> Decimal:
    """Convert a commission to the quote currency (base asset at the fill price, others at asset_price)."""
    if amount == ZERO or asset == rules.quote:
        return amount
    if asset == rules.base:
        return amount * price
    return amount * asset_price if asset_price is not None else ZERO


def trade_fill(trade: Mapping, client_order_id: ClientOrderId, symbol: Symbol, commission: Decimal) -> Fill:
    """Build a Fill from one myTrades entry; fill_id is PAIR:tradeId, as the stream builds it."""
    return Fill(fill_id=f"{trade['symbol']}:{trade['id']}", client_order_id=client_order_id, symbol=symbol,
                side=Side.BUY if trade.get("isBuyer") else Side.SELL, qty=dec(trade["qty"]),
                price=dec(trade["price"]), commission=commission, ts=ms_to_dt(trade["time"]))
