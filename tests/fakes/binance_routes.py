"""REST routes of FakeBinanceSpotServer: Binance spot endpoints over SpotExchange."""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING

from tests.fakes.binance_exchange import ZERO, FakeList, FakeOrder, VenueError, d8, now_ms
from tests.fakes.faults import Recorded, Reply

if TYPE_CHECKING:
    from tests.fakes.binance_spot import FakeBinanceSpotServer

DAY_MS = 24 * 3600 * 1000


def route(fake: FakeBinanceSpotServer, req: Recorded, *, delayed_fill: float | None = None) -> Reply:
    """Answer one authenticated request; raise VenueError for Binance-style refusals."""
    ex, q, key = fake.exchange, req.query, (req.method, req.path)
    if key == ("GET", "/api/v3/ping"):
        return Reply(200, {})
    if key == ("GET", "/api/v3/time"):
        return Reply(200, {"serverTime": now_ms() + fake.clock_skew_ms})
    if key == ("GET", "/api/v3/exchangeInfo"):
        specs = [ex.spec(q["symbol"])] if "symbol" in q else list(ex.pairs.values())
        return Reply(200, {"timezone": "UTC", "serverTime": now_ms(), "exchangeFilters": [],
                           "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                           "limit": 6000},
                                          {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                                           "limit": 100}],
                           "symbols": [s.info() for s in specs]})
    if key == ("GET", "/api/v3/ticker/price"):
        pair = ex.spec(q.get("symbol", "")).pair
        if pair not in ex.prices:
            raise VenueError(-1121, "Invalid symbol.")
        return Reply(200, {"symbol": pair, "price": d8(ex.prices[pair])})
    if key == ("GET", "/api/v3/account"):
        return Reply(200, ex.account(q.get("omitZeroBalances") == "true"))
    if req.path == "/api/v3/order":
        return _order(fake, req, delayed_fill)
    if key == ("GET", "/api/v3/openOrders"):
        with ex.lock:
            open_ = [o.json() for o in ex.orders.values() if o.open and q.get("symbol", o.pair) == o.pair]
        return Reply(200, open_)
    if key == ("GET", "/api/v3/allOrders"):
        with ex.lock:
            pair = ex.spec(q.get("symbol", "")).pair
            return Reply(200, [o.json() for o in ex.orders.values() if o.pair == pair])
    if key == ("GET", "/api/v3/myTrades"):
        return Reply(200, _my_trades(fake, q))
    if key == ("POST", "/api/v3/orderList/oco"):
        lst = ex.new_oco(q)
        return Reply(200, _list_reply(fake, lst))
    if req.path == "/api/v3/orderList":
        lst = ex.find_list(q.get("orderListId"), q.get("origClientOrderId") or q.get("listClientOrderId"))
        if req.method == "DELETE":
            ex.cancel_list(lst)
            return Reply(200, _list_reply(fake, lst))
        return Reply(200, lst.json(ex.orders))
    if key == ("GET", "/api/v3/openOrderList"):
        with ex.lock:
            return Reply(200, [lst.json(ex.orders) for lst in ex.lists.values() if lst.status == "EXECUTING"])
    if req.path == "/api/v3/userDataStream":
        return _listen_key(fake, req)
    return Reply(404, {"code": -1000, "msg": f"fake binance does not serve {req.method} {req.path}"})


def _order(fake: FakeBinanceSpotServer, req: Recorded, delayed_fill: float | None) -> Reply:
    ex, q = fake.exchange, req.query
    if req.method == "POST":
        deferred = delayed_fill is not None and q.get("type") == "MARKET"
        order = ex.new_order(q, defer_fill=deferred)
        if delayed_fill is not None and deferred:
            timer = threading.Timer(delayed_fill, ex.fill_now, args=(order.order_id,))
            timer.daemon = True
            timer.start()
        return Reply(200, _new_order_reply(fake, order, q.get("newOrderRespType", "FULL")))
    pair = ex.spec(q.get("symbol", "")).pair
    if req.method == "GET":
        return Reply(200, ex.find(pair, q.get("orderId"), q.get("origClientOrderId")).json())
    if req.method == "DELETE":
        try:
            order = ex.find(pair, q.get("orderId"), q.get("origClientOrderId"))
        except VenueError:
            raise VenueError(-2011, "Unknown order sent.") from None
        ex.cancel(pair, order, q.get("newClientOrderId", ""))
        body = order.json() | {"origClientOrderId": order.client_id, "clientOrderId": q.get("newClientOrderId")
                               or f"cancel-{order.order_id}", "transactTime": now_ms()}
        for k in ("time", "updateTime", "isWorking", "workingTime"):
            body.pop(k)
        return Reply(200, body)
    raise VenueError(-1000, f"fake binance does not serve {req.method} /api/v3/order")


def _new_order_reply(fake: FakeBinanceSpotServer, order: FakeOrder, resp_type: str) -> dict:
    base = {"symbol": order.pair, "orderId": order.order_id, "orderListId": order.list_id,
            "clientOrderId": order.client_id, "transactTime": order.created}
    if resp_type == "ACK":
        return base
    full = order.json()
    body = base | {k: full[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status",
                                        "timeInForce", "type", "side", "workingTime", "origQuoteOrderQty",
                                        "selfTradePreventionMode")}
    if order.stop > ZERO:
        body["stopPrice"] = full["stopPrice"]
    if resp_type == "FULL":
        with fake.exchange.lock:
            trades = [t for t in fake.exchange.trades if t["orderId"] == order.order_id and t["symbol"] == order.pair]
        body["fills"] = [{"price": t["price"], "qty": t["qty"], "commission": t["commission"],
                          "commissionAsset": t["commissionAsset"], "tradeId": t["id"]} for t in trades]
    return body


def _list_reply(fake: FakeBinanceSpotServer, lst: FakeList) -> dict:
    ex = fake.exchange
    with ex.lock:
        reports = []
        for oid in lst.order_ids:
            j = ex.orders[oid].json()
            reports.append({k: v for k, v in j.items() if k not in ("time", "updateTime", "isWorking")}
                           | {"transactTime": lst.created})
        return lst.json(ex.orders) | {"orderReports": reports}


def _my_trades(fake: FakeBinanceSpotServer, q: dict[str, str]) -> list[dict]:
    ex = fake.exchange
    pair = ex.spec(q.get("symbol", "")).pair
    limit = min(int(q.get("limit", 500)), 1000)
    start, end = q.get("startTime"), q.get("endTime")
    if start and end and int(end) - int(start) > DAY_MS:
        raise VenueError(-1127, "More than 24 hours between startTime and endTime.")
    with ex.lock:
        rows = [t for t in ex.trades if t["symbol"] == pair]
    if "orderId" in q:
        rows = [t for t in rows if str(t["orderId"]) == q["orderId"]]
    if "fromId" in q:
        return [t for t in rows if t["id"] >= int(q["fromId"])][:limit]
    if start:
        lo = int(start)
        hi = int(end) if end else lo + DAY_MS
        return [t for t in rows if lo <= t["time"] <= hi][:limit]
    if end:
        return [t for t in rows if t["time"] <= int(end)][-limit:]
    return rows[-limit:]


def _listen_key(fake: FakeBinanceSpotServer, req: Recorded) -> Reply:
    if req.method == "POST":
        key = secrets.token_hex(32)
        fake.listen_keys.add(key)
        return Reply(200, {"listenKey": key})
    key = req.query.get("listenKey", "")
    if key not in fake.listen_keys:
        raise VenueError(-1125, "This listenKey does not exist.")
    if req.method == "DELETE":
        fake.listen_keys.discard(key)
    return Reply(200, {})
