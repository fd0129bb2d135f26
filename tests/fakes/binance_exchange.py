"""The state behind FakeBinanceSpotServer: a tiny Binance spot matching engine with real balances.

Orders fill whole: market orders at the pair's settable last price, resting limits at their limit when
the price crosses them, stop-limits trigger when the price crosses the stop and then work as limits.
An OCO's legs share one lock on the base asset; when a leg triggers or fills the other expires.
Commission is `commission_rate` of what the account receives (base on buys, quote on sells), as on
Binance, or of the trade's value paid in `fee_asset` (BNB) at its last price when that is set.
Every change emits an executionReport dict through `emit`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")


class VenueError(Exception):
    """A refusal in Binance's format: HTTP status, code and message."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def d8(value: Decimal) -> str:
    """Format like Binance: eight decimals."""
    return f"{value:.8f}"


@dataclass(frozen=True)
class PairSpec:
    """One listed pair and its filters."""

    pair: str
    base: str
    quote: str
    step: Decimal = Decimal("0.00001")
    tick: Decimal = Decimal("0.01")
    min_qty: Decimal = Decimal("0.00001")
    min_notional: Decimal = Decimal("5")

    def info(self) -> dict:
        """Return the pair's exchangeInfo entry."""
        return {"symbol": self.pair, "status": "TRADING", "baseAsset": self.base, "quoteAsset": self.quote,
                "baseAssetPrecision": 8, "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "ocoAllowed": True, "otoAllowed": True, "isSpotTradingAllowed": True,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": d8(self.tick), "maxPrice": "1000000.00000000",
                     "tickSize": d8(self.tick)},
                    {"filterType": "LOT_SIZE", "minQty": d8(self.min_qty), "maxQty": "9000.00000000",
                     "stepSize": d8(self.step)},
                    {"filterType": "NOTIONAL", "minNotional": d8(self.min_notional), "applyMinToMarket": True,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5}]}


DEFAULT_PAIRS = (PairSpec("BTCUSDT", "BTC", "USDT"), PairSpec("ETHUSDT", "ETH", "USDT", step=Decimal("0.0001")),
                 PairSpec("BNBUSDT", "BNB", "USDT", step=Decimal("0.001")))


@dataclass
class FakeOrder:
    """One order as the engine holds it."""

    pair: str
    order_id: int
    client_id: str
    side: str
    type: str
    qty: Decimal
    price: Decimal = ZERO
    stop: Decimal = ZERO
    tif: str = "GTC"
    status: str = "NEW"
    executed: Decimal = ZERO
    quote_qty: Decimal = ZERO
    created: int = 0
    updated: int = 0
    list_id: int = -1
    triggered: bool = False
    lock: tuple[str, Decimal] | None = None  # (asset, amount) held for this order or its list

    def json(self) -> dict:
        """Return the order in GET /api/v3/order format."""
        return {"symbol": self.pair, "orderId": self.order_id, "orderListId": self.list_id,
                "clientOrderId": self.client_id, "price": d8(self.price), "origQty": d8(self.qty),
                "executedQty": d8(self.executed), "cummulativeQuoteQty": d8(self.quote_qty), "status": self.status,
                "timeInForce": self.tif, "type": self.type, "side": self.side, "stopPrice": d8(self.stop),
                "icebergQty": d8(ZERO), "time": self.created, "updateTime": self.updated,
                "isWorking": self.type in ("MARKET", "LIMIT", "LIMIT_MAKER") or self.triggered,
                "workingTime": self.created, "origQuoteOrderQty": d8(ZERO), "selfTradePreventionMode": "NONE"}

    @property
    def open(self) -> bool:
        """Return True while the order can still fill."""
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class FakeList:
    """An OCO order list."""

    list_id: int
    client_id: str
    pair: str
    order_ids: list[int]
    created: int
    status: str = "EXECUTING"
    lock: tuple[str, Decimal] | None = None

    def json(self, orders: Mapping[int, FakeOrder]) -> dict:
        """Return the list in GET /api/v3/orderList format."""
        done = self.status == "ALL_DONE"
        return {"orderListId": self.list_id, "contingencyType": "OCO",
                "listStatusType": "ALL_DONE" if done else "EXEC_STARTED", "listOrderStatus": self.status,
                "listClientOrderId": self.client_id, "transactionTime": self.created, "symbol": self.pair,
                "orders": [{"symbol": self.pair, "orderId": i, "clientOrderId": orders[i].client_id}
                           for i in self.order_ids]}


def now_ms() -> int:
    """Return the wall clock in epoch milliseconds."""
    return int(time.time() * 1000)


@dataclass
class SpotExchange:
    """Balances, orders, OCO lists and trades of one account; thread-safe."""

    pairs: dict[str, PairSpec]
    balances: dict[str, list[Decimal]]  # asset -> [free, locked]
    emit: Callable[[dict], None] = lambda event: None
    commission_rate: Decimal = Decimal("0.001")
    fee_asset: str | None = None  # e.g. "BNB": fees paid in it at its last price (Binance's BNB discount)
    prices: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[int, FakeOrder] = field(default_factory=dict)
    lists: dict[int, FakeList] = field(default_factory=dict)
    trades: list[dict] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _trade_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- orders ---------------------------------------------------------------------------------------
    def spec(self, pair: str) -> PairSpec:
        """Return the pair or raise Binance's invalid symbol."""
        if pair not in self.pairs:
            raise VenueError(-1121, "Invalid symbol.")
        return self.pairs[pair]

    def new_order(self, p: Mapping[str, str], *, list_id: int = -1, lock: bool = True,
                  defer_fill: bool = False) -> FakeOrder:
        """Validate and place one order like POST /api/v3/order; raise VenueError on refusal."""
        with self.lock:
            spec = self.spec(p.get("symbol", ""))
            side, kind = p.get("side", ""), p.get("type", "")
            if side not in ("BUY", "SELL"):
                raise VenueError(-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
            if kind not in ("MARKET", "LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT"):
                raise VenueError(-1116, "Invalid orderType.")
            cid = p.get("newClientOrderId") or f"fake-{next(self._ids)}"
            if any(o.client_id == cid and o.open for o in self.orders.values()):
                raise VenueError(-2010, "Duplicate order sent.")
            qty = self._decimal(p, "quantity", spec.step, "LOT_SIZE")
            price = self._decimal(p, "price", spec.tick, "PRICE_FILTER") if kind != "MARKET" else ZERO
            stop = self._decimal(p, "stopPrice", spec.tick, "PRICE_FILTER") if kind == "STOP_LOSS_LIMIT" else ZERO
            last = self.prices.get(spec.pair)
            if kind == "MARKET" and last is None:
                raise VenueError(-2010, "Market is closed.")  # no price set means no liquidity
            if qty < spec.min_qty:
                raise VenueError(-1013, "Filter failure: LOT_SIZE")
            if (price or last or ZERO) * qty < spec.min_notional:
                raise VenueError(-1013, "Filter failure: NOTIONAL")
            buy = side == "BUY"
            if kind == "LIMIT_MAKER" and last is not None and (last <= price if buy else last >= price):
                raise VenueError(-2010, "Order would immediately match and take.")
            if kind == "STOP_LOSS_LIMIT" and last is not None and (last >= stop if buy else last <= stop):
                raise VenueError(-2010, "Stop price would trigger immediately.")
            ts = now_ms()
            order = FakeOrder(spec.pair, next(self._ids), cid, side, kind, qty, price, stop,
                              p.get("timeInForce", "GTC") if kind != "MARKET" else "GTC", created=ts, updated=ts,
                              list_id=list_id)
            if lock:
                order.lock = self._lock_funds(spec, buy, qty, price or last or ZERO)
            self.orders[order.order_id] = order
            self._report(order, "NEW")
            if not defer_fill:
                self._match_one(order)
            return order

    def fill_now(self, order_id: int) -> None:
        """Fill a deferred market order at the current price (the delayed-fill fault)."""
        with self.lock:
            order = self.orders[order_id]
            if order.open:
                self._match_one(order)

    def new_oco(self, p: Mapping[str, str]) -> FakeList:
        """Place a SELL/BUY OCO like POST /api/v3/orderList/oco (above and below legs)."""
        with self.lock:
            spec = self.spec(p.get("symbol", ""))
            list_cid = p.get("listClientOrderId") or f"fake-list-{next(self._ids)}"
            if any(lst.client_id == list_cid and lst.status == "EXECUTING" for lst in self.lists.values()):
                raise VenueError(-2010, "Duplicate order sent.")
            legs = []
            for where in ("above", "below"):
                legs.append({"symbol": spec.pair, "side": p.get("side", ""), "type": p.get(f"{where}Type", ""),
                             "quantity": p.get("quantity", ""), "price": p.get(f"{where}Price", ""),
                             "stopPrice": p.get(f"{where}StopPrice", ""),
                             "timeInForce": p.get(f"{where}TimeInForce", "GTC"),
                             "newClientOrderId": p.get(f"{where}ClientOrderId", "")})
            if {leg["type"] for leg in legs} != {"LIMIT_MAKER", "STOP_LOSS_LIMIT"}:
                raise VenueError(-1116, "Invalid orderType.")  # the fake speaks the protective pair only
            buy = p.get("side") == "BUY"
            qty = self._decimal(p, "quantity", spec.step, "LOT_SIZE")
            ref = max(Decimal(leg["price"] or "0") for leg in legs)
            funds = self._lock_funds(spec, buy, qty, ref)
            list_id = next(self._ids)
            placed: list[FakeOrder] = []
            try:
                for leg in legs:
                    placed.append(self.new_order(leg, list_id=list_id, lock=False, defer_fill=True))
            except VenueError:
                self._unlock(funds)
                for o in placed:
                    del self.orders[o.order_id]
                raise
            lst = FakeList(list_id, list_cid, spec.pair, [o.order_id for o in placed], now_ms(), lock=funds)
            self.lists[list_id] = lst
            return lst

    def cancel(self, pair: str, order: FakeOrder, cancel_cid: str = "") -> FakeOrder:
        """Cancel an open order (a leg takes its whole list down); -2011 when not open."""
        with self.lock:
            if not order.open:
                raise VenueError(-2011, "Unknown order sent.")
            if order.list_id != -1:
                self.cancel_list(self.lists[order.list_id])
                return order
            self._close(order, "CANCELED", cancel_cid)
            self._unlock(order.lock)
            order.lock = None
            return order

    def cancel_list(self, lst: FakeList) -> FakeList:
        """Cancel every open leg of a list."""
        with self.lock:
            if lst.status != "EXECUTING":
                raise VenueError(-2011, "Unknown order sent.")
            for oid in lst.order_ids:
                if self.orders[oid].open:
                    self._close(self.orders[oid], "CANCELED")
            self._finish_list(lst)
            return lst

    def find(self, pair: str, order_id: str | None, client_id: str | None) -> FakeOrder:
        """Return the order by id or (latest) client id in pair; -2013 when none."""
        with self.lock:
            hits = [o for o in self.orders.values() if o.pair == pair and (
                (order_id and str(o.order_id) == order_id) or (client_id and o.client_id == client_id))]
            if not hits:
                raise VenueError(-2013, "Order does not exist.")
            return hits[-1]

    def find_list(self, list_id: str | None, client_id: str | None) -> FakeList:
        """Return the order list by id or client id; -2013 when none."""
        with self.lock:
            hits = [lst for lst in self.lists.values()
                    if (list_id and str(lst.list_id) == list_id) or (client_id and lst.client_id == client_id)]
            if not hits:
                raise VenueError(-2013, "Order list does not exist.")
            return hits[-1]

    # -- prices and matching --------------------------------------------------------------------------
    def set_price(self, pair: str, price: Decimal) -> None:
        """Move the last price; resting orders that it crosses trigger or fill."""
        with self.lock:
            self.spec(pair)
            self.prices[pair] = Decimal(price)
            for order in [o for o in self.orders.values() if o.pair == pair and o.open]:
                if order.open:  # an earlier fill may have expired this OCO leg
                    self._match_one(order)

    def _match_one(self, order: FakeOrder) -> None:
        last = self.prices.get(order.pair)
        if last is None:
            return
        buy = order.side == "BUY"
        if order.type == "STOP_LOSS_LIMIT" and not order.triggered:
            if not (last >= order.stop if buy else last <= order.stop):
                return
            order.triggered = True
            self._expire_siblings(order)
        if order.type == "MARKET":
            self._fill(order, last)
        elif buy and last <= order.price or not buy and last >= order.price:
            self._fill(order, order.price)

    def _fill(self, order: FakeOrder, price: Decimal) -> None:
        spec = self.pairs[order.pair]
        self._expire_siblings(order)
        holder = order if order.list_id == -1 else self.lists[order.list_id]
        self._unlock(holder.lock)
        holder.lock = None
        qty, quote = order.qty - order.executed, (order.qty - order.executed) * price
        buy = order.side == "BUY"
        pay, pay_amt, get, get_amt = (spec.quote, quote, spec.base, qty) if buy else (spec.base, qty, spec.quote, quote)
        if self.balances.setdefault(pay, [ZERO, ZERO])[0] < pay_amt:
            self._close(order, "EXPIRED")  # funds moved away since the order was accepted
            return
        commission, fee_in = get_amt * self.commission_rate, get
        fee_price = self.prices.get(f"{self.fee_asset}{spec.quote}") if self.fee_asset else None
        if fee_price is not None and self.fee_asset is not None:
            commission, fee_in = quote * self.commission_rate / fee_price, self.fee_asset
        self.balances[pay][0] -= pay_amt
        self.balances.setdefault(get, [ZERO, ZERO])[0] += get_amt
        self.balances.setdefault(fee_in, [ZERO, ZERO])[0] -= commission
        ts = now_ms()
        trade = {"symbol": order.pair, "id": next(self._trade_ids), "orderId": order.order_id,
                 "orderListId": order.list_id, "price": d8(price), "qty": d8(qty), "quoteQty": d8(quote),
                 "commission": d8(commission), "commissionAsset": fee_in, "time": ts, "isBuyer": buy,
                 "isMaker": order.type != "MARKET", "isBestMatch": True}
        self.trades.append(trade)
        order.executed, order.quote_qty, order.status, order.updated = order.qty, order.quote_qty + quote, "FILLED", ts
        order.lock = None
        self._report(order, "TRADE", trade)
        if order.list_id != -1:
            self._finish_list(self.lists[order.list_id])

    def _expire_siblings(self, order: FakeOrder) -> None:
        if order.list_id == -1:
            return
        for oid in self.lists[order.list_id].order_ids:
            sibling = self.orders[oid]
            if oid != order.order_id and sibling.open:
                self._close(sibling, "EXPIRED")

    def _finish_list(self, lst: FakeList) -> None:
        if all(not self.orders[i].open for i in lst.order_ids):
            lst.status = "ALL_DONE"
            self._unlock(lst.lock)
            lst.lock = None

    def _close(self, order: FakeOrder, status: str, cancel_cid: str = "") -> None:
        order.status, order.updated = status, now_ms()
        self._report(order, status, cancel_cid=cancel_cid)

    # -- balances -------------------------------------------------------------------------------------
    def _lock_funds(self, spec: PairSpec, buy: bool, qty: Decimal, price: Decimal) -> tuple[str, Decimal]:
        asset, amount = (spec.quote, qty * price) if buy else (spec.base, qty)
        bal = self.balances.setdefault(asset, [ZERO, ZERO])
        if bal[0] < amount:
            raise VenueError(-2010, "Account has insufficient balance for requested action.")
        bal[0] -= amount
        bal[1] += amount
        return asset, amount

    def _unlock(self, lock: tuple[str, Decimal] | None) -> None:
        if lock is not None:
            bal = self.balances[lock[0]]
            bal[0] += lock[1]
            bal[1] -= lock[1]

    def account(self, omit_zero: bool) -> dict:
        """Return GET /api/v3/account."""
        with self.lock:
            balances = [{"asset": a, "free": d8(f), "locked": d8(lk)} for a, (f, lk) in sorted(self.balances.items())
                        if not omit_zero or f + lk > ZERO]
        return {"makerCommission": 10, "takerCommission": 10, "canTrade": True, "canWithdraw": True,
                "canDeposit": True, "updateTime": now_ms(), "accountType": "SPOT", "balances": balances,
                "permissions": ["SPOT"]}

    def _decimal(self, p: Mapping[str, str], name: str, step: Decimal, filter_name: str) -> Decimal:
        raw = p.get(name, "")
        try:
            value = Decimal(raw)
        except ArithmeticError:
            raise VenueError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.") \
                from None
        if value.as_tuple().exponent < -8:  # type: ignore[operator]
            raise VenueError(-1111, f"Parameter '{name}' has too much precision.")
        if value <= ZERO or value % step != ZERO:
            raise VenueError(-1013, f"Filter failure: {filter_name}")
        return value

    def _report(self, order: FakeOrder, execution: str, trade: dict | None = None, cancel_cid: str = "") -> None:
        canceled = execution == "CANCELED"
        self.emit({
            "e": "executionReport", "E": now_ms(), "s": order.pair,
            "c": (cancel_cid or f"cancel-{order.order_id}") if canceled else order.client_id,
            "S": order.side, "o": order.type, "f": order.tif, "q": d8(order.qty), "p": d8(order.price),
            "P": d8(order.stop), "F": d8(ZERO), "g": order.list_id, "C": order.client_id if canceled else "",
            "x": execution, "X": order.status, "r": "NONE", "i": order.order_id,
            "l": trade["qty"] if trade else d8(ZERO), "z": d8(order.executed),
            "L": trade["price"] if trade else d8(ZERO), "n": trade["commission"] if trade else "0",
            "N": trade["commissionAsset"] if trade else None, "T": order.updated, "t": trade["id"] if trade else -1,
            "v": 0, "I": 0, "w": order.open, "m": bool(trade and trade["isMaker"]), "M": False, "O": order.created,
            "Z": d8(order.quote_qty), "Y": trade["quoteQty"] if trade else d8(ZERO), "Q": d8(ZERO),
            "W": order.created, "V": "NONE"})
