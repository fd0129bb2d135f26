"""FakeBinanceSpotServer: Binance spot REST + user data WebSocket on 127.0.0.1, with fault injection.

Public API (use as a context manager; it stops itself after `max_lifetime` seconds):

- `FakeBinanceSpotServer(api_key, api_secret, *, balances={"USDT": "100000"}, pairs=DEFAULT_PAIRS,
  commission_rate="0.001", fee_asset=None, max_lifetime=120)`; fee_asset="BNB" charges fees in BNB at
  the BNBUSDT price.
- URLs: `base_url` (REST: give it to BinanceBroker(rest_url=...)), `ws_api_url` (the WebSocket API that
  python-binance 1.0.37's user socket subscribes on with `userDataStream.subscribe.signature`),
  `stream_url` (legacy `/ws/<listenKey>` user data stream).
- State: `set_price(pair, price)` moves the last price (fills market orders, triggers stops, fills
  crossed limits and OCO legs); `exchange` is the SpotExchange (balances, orders, lists, trades);
  `balance(asset)`; `events` lists every executionReport emitted; `subscribers()` counts live user data
  subscriptions and `disconnect_streams()` drops them.
- Faults, scripted: `fail(kind, path="/api/v3/order", method="POST", times=1, delay=..., status=...,
  retry_after=...)` with kind one of FAULT_KINDS: accept_then_timeout (order created, reply held past
  the client's timeout), error_before (5xx, nothing created), status_unknown (created, then Binance's
  -1007 "execution status unknown" 503), rate_limited (429 + Retry-After), banned (418 + Retry-After),
  drop_before / drop_after (connection closed without a reply, before / after creating),
  delayed_fill (a market order is accepted NEW and fills `delay` seconds later).
  Random with a seed: `chaos(seed, rate, kinds=FAULT_KINDS, path=..., method=..., delay=3.0)`.
  Stream faults: `stream_fault("duplicate" | "reorder", times)` (each executionReport sent twice / an
  event held back and sent after the next one); random: `stream_chaos(seed, rate)`.
- Counters: `fault_counts` (Counter by kind), `orders_created`, `orders_by_client_id()` (client id ->
  list of order JSON, so a harness can assert nothing was placed twice or lost), `requests` / `paths()`.
- Auth like Binance: X-MBX-APIKEY must match (-2015), HMAC-SHA256 `signature` over the raw query
  string + body (-1022), `timestamp` within `recvWindow` of the server clock shifted by `clock_skew_ms` (-1021).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlencode, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.fakes.binance_exchange import DEFAULT_PAIRS, PairSpec, SpotExchange, VenueError, now_ms
from tests.fakes.binance_routes import route
from tests.fakes.faults import FakeServer, Recorded, Reply, send_reply

FAULT_KINDS = ("accept_then_timeout", "error_before", "status_unknown", "rate_limited", "banned", "drop_before",
               "drop_after", "delayed_fill")
_CREATES = ("accept_then_timeout", "status_unknown", "drop_after", "delayed_fill")


@dataclass(frozen=True)
class SpotFault:
    """One scripted misbehaviour on (method, path prefix)."""

    kind: str
    method: str = "POST"
    path: str = "/api/v3/order"
    delay: float = 3.0
    status: int = 500
    retry_after: str = "1"


class FakeBinanceSpotServer(FakeServer):
    """Binance spot REST + WebSocket API with real account state; see the module docstring."""

    def __init__(self, api_key: str = "fake-key", api_secret: str = "fake-secret", *,  # noqa: S107 - a fake's
                 balances: Mapping[str, str] | None = None, pairs: Iterable[PairSpec] = DEFAULT_PAIRS,
                 commission_rate: str = "0.001", fee_asset: str | None = None,
                 max_lifetime: float = 120.0) -> None:
        super().__init__(max_lifetime=max_lifetime)
        self.api_key, self.api_secret = api_key, api_secret
        start = balances if balances is not None else {"USDT": "100000"}
        self.exchange = SpotExchange({p.pair: p for p in pairs}, {a: [Decimal(v), Decimal(0)]
                                                                  for a, v in start.items()},
                                     emit=self._emit, commission_rate=Decimal(commission_rate),
                                     fee_asset=fee_asset)
        self.events: list[dict] = []
        self.fault_counts: Counter[str] = Counter()
        self.clock_skew_ms = 0
        self.listen_keys: set[str] = set()
        self._plan: deque[SpotFault] = deque()
        self._chaos: tuple[random.Random, float, tuple[str, ...], str, str, float] | None = None
        self._stream_chaos: tuple[random.Random, float] | None = None
        self._stream_faults: deque[str] = deque()
        self._held: dict | None = None
        self._subs: dict[int, ServerConnection] = {}
        self._legacy: set[ServerConnection] = set()
        self._next_sub = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._ws_port = 0

    # -- public API ------------------------------------------------------------------------------------
    @property
    def ws_api_url(self) -> str:
        """Return the WebSocket API URL (python-binance's WS_API_URL)."""
        return f"ws://127.0.0.1:{self._ws_port}/ws-api/v3"

    @property
    def stream_url(self) -> str:
        """Return the legacy stream base (BinanceSocketManager.STREAM_URL style, with trailing slash)."""
        return f"ws://127.0.0.1:{self._ws_port}/"

    def set_price(self, pair: str, price: Decimal | str) -> None:
        """Move pair's last price; crossed orders trigger and fill."""
        self.exchange.set_price(pair, Decimal(price))

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        """Return (free, locked) of asset."""
        with self.exchange.lock:
            free, locked = self.exchange.balances.get(asset, [Decimal(0), Decimal(0)])
            return free, locked

    def fail(self, kind: str, *, path: str = "/api/v3/order", method: str = "POST", times: int = 1,
             delay: float = 3.0, status: int = 500, retry_after: str = "1") -> None:
        """Script `kind` for the next `times` requests to method+path (see FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        self._plan.extend([SpotFault(kind, method, path, delay, status, retry_after)] * times)

    def chaos(self, seed: int, rate: float, kinds: Iterable[str] = FAULT_KINDS, *, path: str = "/api/v3/order",
              method: str = "POST", delay: float = 3.0) -> None:
        """Inject a random fault (seeded) into a `rate` share of requests to method+path.

        delay is how long accept_then_timeout holds its reply (keep it above the client's timeout)
        and how late a delayed_fill fills.
        """
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; expected some of {FAULT_KINDS}")
        self._chaos = (random.Random(seed), rate, tuple(kinds), method, path, delay)

    def stream_chaos(self, seed: int, rate: float) -> None:
        """Duplicate or reorder a random (seeded) `rate` share of executionReports."""
        self._stream_chaos = (random.Random(seed), rate)

    def stream_fault(self, kind: str, times: int = 1) -> None:
        """Duplicate (`duplicate`) or reorder (`reorder`) the next `times` executionReports."""
        if kind not in ("duplicate", "reorder"):
            raise ValueError(f"unknown stream fault {kind!r}")
        self._stream_faults.extend([kind] * times)

    def subscribers(self) -> int:
        """Return how many user data subscriptions (WebSocket API and legacy listenKey) are live."""
        return len(self._subs) + len(self._legacy)

    def disconnect_streams(self) -> None:
        """Close every user data WebSocket connection (clients must resubscribe)."""
        conns = set(self._subs.values()) | self._legacy
        if self._loop is not None:
            for conn in conns:
                asyncio.run_coroutine_threadsafe(conn.close(1011, "fake: dropped"), self._loop)

    @property
    def orders_created(self) -> int:
        """Return how many orders the venue accepted (OCO legs count one each)."""
        return len(self.exchange.orders)

    def orders_by_client_id(self) -> dict[str, list[dict]]:
        """Return every order ever created, grouped by client order id."""
        out: dict[str, list[dict]] = {}
        with self.exchange.lock:
            for order in self.exchange.orders.values():
                out.setdefault(order.client_id, []).append(order.json())
        return out

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> FakeBinanceSpotServer:
        super().__enter__()
        handler = self._server.RequestHandlerClass  # type: ignore[union-attr]
        # The base handler answers GET/POST; Binance also takes DELETE (cancel) and PUT (keepalive).
        handler.do_DELETE = handler.do_PUT = handler.do_GET  # type: ignore[attr-defined,union-attr]
        ready = threading.Event()
        self._ws_thread = threading.Thread(target=self._run_ws, args=(ready,), daemon=True)
        self._ws_thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake binance websocket server did not start")
        return self

    def stop(self) -> None:
        """Stop REST and WebSocket servers; idempotent."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._ws_stop.set)
        super().stop()

    # -- HTTP ------------------------------------------------------------------------------------------
    def error(self, status: int, message: str) -> Reply:
        """Binance's error body."""
        return Reply(status, {"code": -1000 if status >= 500 else -1100, "msg": message})

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(parts.query, keep_blank_values=True)) | dict(parse_qsl(body, keep_blank_values=True))
        req = Recorded(h.command, parts.path, params, {k.lower(): v for k, v in h.headers.items()}, time.monotonic())
        with self._lock:
            self.requests.append(req)
        fault = self._take_fault(h.command, parts.path)
        if fault is not None:
            self.fault_counts[fault.kind] += 1
        if fault is not None and fault.kind == "drop_before":
            return  # no reply at all: the client sees the connection close
        reply = self._before(fault) if fault is not None else None
        if reply is None:
            try:
                reply = self._auth(h.command, parts.path, parts.query + body, req)
                reply = reply or route(self, req, delayed_fill=fault.delay if fault and fault.kind == "delayed_fill"
                                       else None)
            except VenueError as exc:
                reply = Reply(exc.status, {"code": exc.code, "msg": exc.msg})
            except Exception as exc:  # a bug in the fake should read as a 500, not a hung client
                reply = self.error(500, f"fake error: {exc!r}")
        if fault is not None and fault.kind == "drop_after":
            return
        if fault is not None and fault.kind == "status_unknown":
            reply = Reply(503, {"code": -1007, "msg": "Timeout waiting for response from backend server. Send "
                                                      "status unknown; execution status unknown."})
        if fault is not None and fault.kind == "accept_then_timeout" and self._stop.wait(fault.delay):
            return
        self._send(h, reply)

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        raw = json.dumps(reply.body, separators=(",", ":")).encode()
        send_reply(h, reply.status, raw, {"X-MBX-USED-WEIGHT-1M": str(len(self.requests)), **reply.headers},
                   content_type="application/json;charset=UTF-8")

    def _take_fault(self, method: str, path: str) -> SpotFault | None:
        with self._lock:
            for i, f in enumerate(self._plan):
                if f.method == method and path == f.path:
                    del self._plan[i]
                    return f
            if self._chaos is not None:
                rng, rate, kinds, c_method, c_path, delay = self._chaos
                if method == c_method and path == c_path and rng.random() < rate:
                    return SpotFault(rng.choice(kinds), method, path, delay=delay)
        return None

    def _before(self, fault: SpotFault) -> Reply | None:
        if fault.kind == "error_before":
            return Reply(fault.status, {"code": -1001, "msg": "Internal error; unable to process your request. "
                                                              "Please try again."})
        if fault.kind in ("rate_limited", "banned"):
            status, code = (429, -1003) if fault.kind == "rate_limited" else (418, -1003)
            return Reply(status, {"code": code, "msg": "Too much request weight used; current limit is 6000 request "
                                                       "weight per 1 MINUTE."}, {"Retry-After": fault.retry_after})
        return None

    def _auth(self, method: str, path: str, raw: str, req: Recorded) -> Reply | None:
        """Check key, signature and timestamp on signed endpoints like Binance; None when fine."""
        keyed = path.startswith("/api/v3/userDataStream")
        signed = path in SIGNED_PATHS
        if (keyed or signed) and req.headers.get("x-mbx-apikey") != self.api_key:
            return Reply(401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
        if not signed:
            return None
        payload, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            return Reply(400, {"code": -1022, "msg": "Signature for this request is not valid."})
        return self._check_timestamp(req.query)

    def _check_timestamp(self, params: Mapping[str, str]) -> Reply | None:
        try:
            ts, window = int(params["timestamp"]), int(params.get("recvWindow", 5000))
        except (KeyError, ValueError):
            return Reply(400, {"code": -1102, "msg": "Mandatory parameter 'timestamp' was not sent, was empty/null, "
                                                     "or malformed."})
        server = now_ms() + self.clock_skew_ms
        if ts >= server + 1000 or server - ts > window:
            return Reply(400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
        return None

    # -- WebSocket (user data) -------------------------------------------------------------------------
    def _emit(self, event: dict) -> None:
        self.events.append(event)
        if self._loop is not None and self._queue is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    def _run_ws(self, ready: threading.Event) -> None:
        asyncio.run(self._ws_main(ready))

    async def _ws_main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._ws_stop = asyncio.Event()
        async with serve(self._ws_handler, "127.0.0.1", 0) as server:
            self._ws_port = next(iter(server.sockets)).getsockname()[1]
            ready.set()
            pusher = asyncio.create_task(self._pusher())
            await self._ws_stop.wait()
            pusher.cancel()

    async def _pusher(self) -> None:
        while True:
            event = await self._queue.get()  # type: ignore[union-attr]
            fault = self._stream_faults.popleft() if self._stream_faults else None
            if fault is None and self._stream_chaos is not None:
                rng, rate = self._stream_chaos
                fault = rng.choice(("duplicate", "reorder")) if rng.random() < rate else None
            if fault is not None:
                self.fault_counts[f"stream_{fault}"] += 1
            if fault == "reorder" and self._held is None:
                self._held = event
                continue
            await self._broadcast(event)
            if fault == "duplicate":
                await self._broadcast(event)
            if self._held is not None:
                held, self._held = self._held, None
                await self._broadcast(held)

    async def _broadcast(self, event: dict) -> None:
        for sub_id, conn in list(self._subs.items()):
            await self._safe_send(conn, {"subscriptionId": sub_id, "event": event})
        for conn in list(self._legacy):
            await self._safe_send(conn, event)

    @staticmethod
    async def _safe_send(conn: ServerConnection, message: dict) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.send(json.dumps(message))

    async def _ws_handler(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request else ""
        if path.startswith("/ws/"):
            if path.removeprefix("/ws/") not in self.listen_keys:
                await conn.close(4000, "invalid listenKey")
                return
            self._legacy.add(conn)
            try:
                await conn.wait_closed()
            finally:
                self._legacy.discard(conn)
            return
        mine: set[int] = set()
        try:
            async for text in conn:
                await conn.send(json.dumps(self._ws_api(json.loads(text), conn, mine)))
        except ConnectionClosed:
            pass
        finally:
            for sub_id in mine:
                self._subs.pop(sub_id, None)

    def _ws_api(self, msg: dict, conn: ServerConnection, mine: set[int]) -> dict:
        """Answer one WebSocket API request (user data stream subscribe / unsubscribe)."""
        req_id, method, params = msg.get("id"), msg.get("method"), dict(msg.get("params") or {})
        if method == "userDataStream.subscribe.signature":
            signature = params.pop("signature", "")
            expected = hmac.new(self.api_secret.encode(), urlencode(sorted(params.items())).encode(),
                                hashlib.sha256).hexdigest()
            if params.get("apiKey") != self.api_key:
                return _ws_error(req_id, 401, -2015, "Invalid API-key, IP, or permissions for action.")
            if not hmac.compare_digest(str(signature), expected):
                return _ws_error(req_id, 400, -1022, "Signature for this request is not valid.")
            if (bad := self._check_timestamp(params)) is not None:
                return _ws_error(req_id, 400, bad.body["code"], bad.body["msg"])
            sub_id = self._next_sub
            self._next_sub += 1
            self._subs[sub_id] = conn
            mine.add(sub_id)
            return {"id": req_id, "status": 200, "result": {"subscriptionId": sub_id}}
        if method == "userDataStream.unsubscribe":
            self._subs.pop(int(params.get("subscriptionId", -1)), None)
            return {"id": req_id, "status": 200, "result": {}}
        return _ws_error(req_id, 400, -1100, f"Unknown method {method!r}.")


def _ws_error(req_id: object, status: int, code: int, msg: str) -> dict:
    return {"id": req_id, "status": status, "error": {"code": code, "msg": msg}}


SIGNED_PATHS = frozenset({"/api/v3/account", "/api/v3/order", "/api/v3/openOrders", "/api/v3/myTrades",
                          "/api/v3/orderList", "/api/v3/orderList/oco", "/api/v3/openOrderList",
                          "/api/v3/allOrders"})
