"""Binance spot orders through python-binance's Client: the Broker port for crypto.

Exactly-once rules: an order POST is sent once (no library or session retry); a timeout, dropped
connection, 5xx or 429/418 on it raises BrokerUnavailable (outcome unknown: look the order up by client
id before retrying); "Duplicate order sent." raises DuplicateClientOrderId; any other venue refusal
comes back as an Order with status REJECTED and Binance's code and message. Reads retry a few times,
honouring Retry-After. No message ever carries the key or secret.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from binance.exceptions import BinanceAPIException

from tradebot.adapters.binance_orders import (
    BPS,
    BinanceSymbols,
    LocalReject,
    PairRules,
    check_client_id,
    dec,
    derived_id,
    fmt,
    oco_order,
    order_params,
    protection_client_order_id,
    stop_limit_price,
    to_order,
    trade_fill,
)
from tradebot.adapters.binance_rest import INVALID_SYMBOL, NOT_FOUND, BinanceRest, average_cost
from tradebot.binance_config import BinanceConfig
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
)
from tradebot.errors import BrokerError, DuplicateClientOrderId

log = logging.getLogger(__name__)

UNKNOWN_ORDER = -2011  # cancel of an order that is gone or already terminal
DUPLICATE = "Duplicate order sent."


class BinanceBroker:
    """Broker over Binance spot (or its testnet) for pairs like BTC/USD -> BTCUSDT."""

    name = "binance"

    def __init__(self, api_key: str, api_secret: str, *, testnet: bool = False, rest_url: str | None = None,
                 timeout: float = 10.0, order_rate: float = 5.0, quote_map: Mapping[str, str] | None = None,
                 symbol_map: Mapping[str, str] | None = None, quote_asset: str = "USDT",
                 symbols: Iterable[str] = (), stop_slippage_bps: Decimal = Decimal("50"),
                 lookup_before_submit: bool = True, read_attempts: int = 3, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """Connect lazily: no network call happens here.

        rest_url overrides the REST base (e.g. a local fake; testnet then no longer matters);
        order_rate caps order placements/cancels per second client-side; stop_slippage_bps is the band
        between a plain stop's trigger and the limit of the STOP_LOSS_LIMIT that stands in for it;
        lookup_before_submit makes submit_order idempotent even for filled orders (Binance only
        refuses a reused newClientOrderId while the first order is still open); symbols seeds the
        pairs searched when an order id or fill is not known to this process.
        """
        if not api_key or not api_secret:
            raise BrokerError("binance needs an API key and secret: run `tradebot keys set binance_api_key` "
                              "and `tradebot keys set binance_api_secret`")
        self.symbols = BinanceSymbols(quote_map, symbol_map, quote_asset)
        self.quote_asset = self.symbols.quote_asset
        self.rest = BinanceRest(api_key, api_secret, self.symbols, testnet=testnet, rest_url=rest_url, timeout=timeout,
                                order_rate=order_rate, read_attempts=read_attempts, max_retry_after=max_retry_after,
                                sleep=sleep)
        self._band = Decimal(stop_slippage_bps) / BPS
        self._lookup_first = lookup_before_submit
        self._pairs: dict[str, None] = dict.fromkeys(self.symbols.pair(s) for s in symbols)
        self._pair_of: dict[str, str] = {}  # client order id -> pair, for ids placed by this process
        self._pending: dict[str, tuple[Symbol, Protection]] = {}  # entries whose OCO waits for their fill

    @classmethod
    def from_config(cls, cfg: BinanceConfig, api_key: str, api_secret: str,
                    symbols: Iterable[str] = ()) -> BinanceBroker:
        """Build the broker from the `binance` config section and keys read at use (env or keyring)."""
        return cls(api_key, api_secret, testnet=cfg.testnet, rest_url=cfg.rest_url, timeout=cfg.timeout_seconds,
                   order_rate=cfg.order_rate, quote_map=cfg.quote_map, symbol_map=cfg.symbol_map,
                   quote_asset=cfg.quote_asset, symbols=symbols, stop_slippage_bps=cfg.stop_slippage_bps)

    @property
    def api_url(self) -> str:
        """Return the REST base URL orders go to."""
        return self.rest.api_url

    def server_time(self) -> datetime:
        """Return Binance's clock and align our request timestamps to it."""
        return self.rest.server_time()

    # -- Broker port ---------------------------------------------------------------------------------
    def submit_order(self, intent: OrderIntent, now: datetime) -> Order:
        """Place the order for intent (or return the one already placed under its id)."""
        cid = intent.client_order_id
        try:
            pair = self.symbols.pair(intent.symbol)
            check_client_id(cid)
        except LocalReject as exc:
            return _rejected(intent, now, str(exc))
        try:
            params = order_params(intent, pair, self.rest.pair_rules(pair, cid), self._band)
        except LocalReject as exc:
            return _rejected(intent, now, str(exc))
        self._remember(cid, pair)
        if self._lookup_first and (existing := self._find(cid, lists=False)) is not None:
            return self._after_fill(existing, intent.protection, now)
        try:
            raw = self.rest.call("POST /api/v3/order", cid, self.rest.client.create_order, write=True, **params)
        except BinanceAPIException as exc:
            return self._refused(exc, intent, now)
        order = to_order(raw, intent.symbol)
        if intent.protection is not None and intent.side is Side.BUY:
            order = self._after_fill(order, intent.protection, now, raw.get("fills", []))
        return order

    def get_order(self, client_order_id: ClientOrderId) -> Order | None:
        """Look an order (or an OCO placed by protect) up by our client order id; None when Binance has none."""
        return self._find(client_order_id, lists=True)

    def _find(self, client_order_id: ClientOrderId, *, lists: bool) -> Order | None:
        """Find an order by client id in its pair (or every known pair), then among order lists if asked."""
        pairs = [self._pair_of[client_order_id]] if client_order_id in self._pair_of else list(self._pairs)
        for pair in pairs:
            raw = self.rest.read_or_none("GET /api/v3/order", client_order_id, self.rest.client.get_order,
                                         codes=(NOT_FOUND, INVALID_SYMBOL), symbol=pair,
                                         origClientOrderId=client_order_id)
            if raw is not None:
                self._remember(client_order_id, pair)
                order = to_order(raw, self.symbols.symbol(pair), parent=self._parent_of(raw))
                pending = self._pending.get(client_order_id)
                return self._after_fill(order, pending[1], None) if pending else order
        return self._order_list(client_order_id) if lists else None

    def cancel_order(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel a working order (a leg cancels its whole OCO); a terminal order is returned unchanged."""
        order = self.get_order(client_order_id)
        if order is None:
            raise BrokerError(f"binance: cancel {client_order_id}: no such order")
        if order.status.terminal:
            return order
        self._pending.pop(client_order_id, None)
        pair = self.symbols.pair(order.symbol)
        try:
            if order.broker_order_id.startswith("list:"):
                self.rest.call("DELETE /api/v3/orderList", client_order_id, self.rest.client.v3_delete_order_list,
                               write=True, symbol=pair, listClientOrderId=client_order_id)
            else:
                self.rest.call("DELETE /api/v3/order", client_order_id, self.rest.client.cancel_order, write=True,
                               symbol=pair, origClientOrderId=client_order_id)
        except BinanceAPIException as exc:
            if exc.code != UNKNOWN_ORDER:
                raise BrokerError(f"binance: cancel {client_order_id} refused: code {exc.code} {exc.message}") from None
        # Reread: the DELETE reply lacks creation time, and a fill may have won the race.
        return self.get_order(client_order_id) or order

    def open_orders(self) -> Sequence[Order]:
        """Return every working order, OCO legs included (with the OCO's id as parent)."""
        raws = self.rest.call("GET /api/v3/openOrders", "", self.rest.client.get_open_orders)
        lists: dict[int, ClientOrderId] = {}
        if any(r.get("orderListId", -1) != -1 for r in raws):
            for lst in self.rest.call("GET /api/v3/openOrderList", "", self.rest.client.get_open_oco_orders):
                lists[int(lst["orderListId"])] = ClientOrderId(lst["listClientOrderId"])
        out = []
        for raw in raws:
            self._remember(raw["clientOrderId"], raw["symbol"])
            out.append(to_order(raw, self.symbols.symbol(raw["symbol"]), parent=lists.get(raw.get("orderListId", -1))))
        return out

    def protect(self, symbol: Symbol, qty: Decimal, protection: Protection, client_order_id: ClientOrderId,
                now: datetime) -> Order:
        """Place a sell OCO (take profit LIMIT_MAKER + STOP_LOSS_LIMIT) for a holding; idempotent on its id.

        Without a take profit a single STOP_LOSS_LIMIT sell goes out under client_order_id instead.
        """
        try:
            pair = self.symbols.pair(symbol)
            check_client_id(client_order_id)
        except LocalReject as exc:
            return _rejected_protection(symbol, qty, protection, client_order_id, now, str(exc))
        try:
            rules = self.rest.pair_rules(pair, client_order_id)
            q = rules.qty(qty)
            stop = rules.price(protection.stop_price, up=False)
            limit = protection.stop_limit_price or stop_limit_price(stop, buy=False, band=self._band)
            limit = rules.price(limit, up=False)
            take = rules.price(protection.take_profit, up=True) if protection.take_profit is not None else None
        except LocalReject as exc:
            return _rejected_protection(symbol, qty, protection, client_order_id, now, str(exc))
        self._remember(client_order_id, pair)
        if (existing := self.get_order(client_order_id)) is not None:
            return existing
        rest = self.rest
        try:
            if take is None:
                raw = rest.call("POST /api/v3/order", client_order_id, rest.client.create_order, write=True,
                                symbol=pair, side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC",
                                quantity=fmt(q), stopPrice=fmt(stop), price=fmt(limit),
                                newClientOrderId=client_order_id, newOrderRespType="FULL")
                return to_order(raw, symbol)
            raw = rest.call("POST /api/v3/orderList/oco", client_order_id, rest.client.create_oco_order, write=True,
                            symbol=pair, side="SELL", quantity=fmt(q), listClientOrderId=client_order_id,
                            aboveType="LIMIT_MAKER", abovePrice=fmt(take),
                            aboveClientOrderId=derived_id(client_order_id, "-tp"),
                            belowType="STOP_LOSS_LIMIT", belowStopPrice=fmt(stop), belowPrice=fmt(limit),
                            belowTimeInForce="GTC", belowClientOrderId=derived_id(client_order_id, "-sl"),
                            newOrderRespType="FULL")
        except BinanceAPIException as exc:
            if exc.message == DUPLICATE:
                raise DuplicateClientOrderId(f"binance already holds order list {client_order_id}") from None
            return _rejected_protection(symbol, q, protection, client_order_id, now, _venue_reason(exc))
        legs = [to_order(r, symbol, parent=client_order_id) for r in raw.get("orderReports", [])]
        return oco_order(raw, legs, symbol) if legs else self.get_order(client_order_id) or _rejected_protection(
            symbol, q, protection, client_order_id, now, "binance accepted the OCO but returned no legs")

    def fills_since(self, since: datetime | None) -> Sequence[Fill]:
        """Return executions after since (all when None), oldest first, from myTrades per traded pair."""
        fills: list[Fill] = []
        for pair in self._traded_pairs():
            symbol = self.symbols.symbol(pair)
            rules = self.rest.rules(pair)
            for trade in self.rest.trades(pair, since):
                cid = self.rest.client_id(pair, int(trade["orderId"]))
                commission = self.rest.commission(trade, rules)
                fills.append(trade_fill(trade, cid, symbol, commission))
        return sorted(fills, key=lambda f: (f.ts, f.fill_id))

    def positions(self) -> Sequence[Position]:
        """Return non-zero holdings other than the quote asset; avg price is the average cost of our fills."""
        out = []
        for asset, amount in self.rest.balances().items():
            if asset == self.quote_asset or amount == ZERO:
                continue
            pair = self.symbols.pair_of_asset(asset)
            symbol = self.symbols.asset_symbol(asset)
            avg = average_cost(self.rest.trades(pair, None), amount) if self.rest.rules(pair) else ZERO
            out.append(Position(symbol=symbol, qty=amount, avg_price=avg))
        return out

    def cash(self) -> Decimal:
        """Return the quote asset balance (free plus locked in open buy orders)."""
        return self.rest.balances().get(self.quote_asset, ZERO)

    def protect_filled_entries(self, now: datetime) -> list[Order]:
        """Place the OCO of every entry this process saw submitted with protection once it has filled."""
        return [o for cid in list(self._pending) if (o := self.get_order(ClientOrderId(cid))) is not None]

    # -- helpers -------------------------------------------------------------------------------------
    def _after_fill(self, order: Order, protection: Protection | None, now: datetime | None,
                    fills: list | None = None) -> Order:
        """Place the entry's OCO (id protection_client_order_id(entry)) once filled; until then remember it."""
        if protection is None or order.side is not Side.BUY or order.status in (
                OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED):
            self._pending.pop(order.client_order_id, None)
            return order
        if order.status is not OrderStatus.FILLED:
            self._pending[order.client_order_id] = (order.symbol, protection)
            return order
        pair = self.symbols.pair(order.symbol)
        if fills is None:  # a later fill: the commission charged in the base asset is only in myTrades
            fills = self.rest.call("GET /api/v3/myTrades", order.client_order_id, self.rest.client.get_my_trades,
                                   symbol=pair, orderId=order.broker_order_id)
        qty = order.filled_qty - _base_commission(fills, self.rest.rules(pair))
        try:
            oco = self.protect(order.symbol, qty, protection, protection_client_order_id(order.client_order_id),
                               now or datetime.now(UTC))
            self._pending.pop(order.client_order_id, None)
            if oco.status is OrderStatus.REJECTED:
                log.error("binance: protection for %s was refused, the holding is unprotected: %s",
                          order.client_order_id, oco.reject_reason)
        except BrokerError as exc:  # the entry stands; protect_filled_entries or the reconciler retries
            self._pending[order.client_order_id] = (order.symbol, protection)
            log.warning("binance: protection for %s not placed yet: %s", order.client_order_id, exc)
        return order

    def _refused(self, exc: BinanceAPIException, intent: OrderIntent, now: datetime) -> Order:
        if exc.message == DUPLICATE:
            raise DuplicateClientOrderId(f"binance already holds an open order {intent.client_order_id}") from None
        return _rejected(intent, now, _venue_reason(exc))

    def _order_list(self, client_order_id: ClientOrderId) -> Order | None:
        raw = self.rest.read_or_none("GET /api/v3/orderList", client_order_id, self.rest.client.v3_get_order_list,
                                     origClientOrderId=client_order_id)
        if raw is None:
            return None
        pair = raw["symbol"]
        symbol = self.symbols.symbol(pair)
        self._remember(client_order_id, pair)
        legs = []
        for leg in raw.get("orders", []):
            got = self.rest.call("GET /api/v3/order", client_order_id, self.rest.client.get_order, symbol=pair,
                                 orderId=leg["orderId"])
            legs.append(to_order(got, symbol, parent=client_order_id))
        return oco_order(raw, legs, symbol) if legs else None

    def _parent_of(self, raw: Mapping) -> ClientOrderId | None:
        if raw.get("orderListId", -1) == -1:
            return None
        lst = self.rest.read_or_none("GET /api/v3/orderList", raw.get("clientOrderId", ""),
                                     self.rest.client.v3_get_order_list, orderListId=raw["orderListId"])
        return ClientOrderId(lst["listClientOrderId"]) if lst else None

    def _remember(self, cid: str, pair: str) -> None:
        self._pair_of[cid] = pair
        self._pairs.setdefault(pair, None)

    def _traded_pairs(self) -> list[str]:
        pairs = dict(self._pairs)
        for asset, amount in self.rest.balances().items():
            if asset != self.quote_asset and amount > ZERO:
                pairs.setdefault(self.symbols.pair_of_asset(asset), None)
        return [p for p in pairs if self.rest.rules(p) is not None]


def _venue_reason(exc: BinanceAPIException) -> str:
    return f"binance {exc.code}: {exc.message}"


def _rejected(intent: OrderIntent, now: datetime, reason: str) -> Order:
    return Order(client_order_id=intent.client_order_id, symbol=intent.symbol, side=intent.side, qty=intent.qty,
                 order_type=intent.order_type, status=OrderStatus.REJECTED, submitted_at=now,
                 limit_price=intent.limit_price, stop_price=intent.stop_price, reject_reason=reason, updated_at=now)


def _rejected_protection(symbol: Symbol, qty: Decimal, protection: Protection, cid: ClientOrderId, now: datetime,
                         reason: str) -> Order:
    return Order(client_order_id=cid, symbol=symbol, side=Side.SELL, qty=qty, order_type=OrderType.STOP_LIMIT,
                 status=OrderStatus.REJECTED, submitted_at=now, limit_price=protection.stop_limit_price,
                 stop_price=protection.stop_price, reject_reason=reason, updated_at=now)


def _base_commission(fills: list, rules: PairRules | None) -> Decimal:
    if rules is None:
        return ZERO
    return sum((dec(f.get("commission", "0")) for f in fills if f.get("commissionAsset") == rules.base), ZERO)
