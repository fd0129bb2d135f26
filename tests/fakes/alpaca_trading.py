"""FakeAlpacaTradingServer: Alpaca's trading REST API and trade_updates WebSocket on 127.0.0.1, with faults.

Public API (for broker tests and the chaos harness):

    with FakeAlpacaTradingServer(key_id="AK", secret_key="SK", cash=Decimal("100000"), max_lifetime=300.0,
                                 enforce_unique_client_ids=True, fill_chunks=1) as fake:
        fake.base_url      # http://127.0.0.1:PORT   (TradingClient url_override / AlpacaBroker trading_url)
        fake.stream_url    # ws://127.0.0.1:PORT2/stream   (TradingStream url_override)

Market and state:
    fake.set_price(symbol, price)      market orders fill at it; limits, stops, stop-limits, trailing stops
                                       trigger when it crosses; bracket/OTO legs activate on the entry fill and
                                       OCO/bracket siblings cancel when one leg fills
    fake.delay_fills(seconds)          fills happen `seconds` after acceptance (0: at once)
    fake.book                          the AlpacaBook (orders, positions, cash, activities), see alpaca_book.py

REST faults (on requests whose method and path prefix match; default POST /v2/orders):
    fake.inject(kind, times=1, method="POST", path="/v2/orders", delay=2.0, status=500, retry_after="1")
    fake.random_faults({kind: probability, ...}, seed=0, method="POST", path="/v2/orders")
    kinds: "accept_then_timeout" (order IS created, reply held `delay` s, past the client timeout),
           "error_before" (`status`, default 500, nothing created), "error_after" (created, then `status`),
           "rate_limited" (429 with Retry-After, nothing created), "drop_before" (socket closed without a reply,
           nothing created), "drop_after" (created, then socket closed without a reply)
Stream faults:
    fake.inject_stream(kind, times=1) / fake.random_stream_faults({kind: probability}, seed=0)
    kinds: "duplicate" (the event is sent twice), "reorder" (the event is held and sent after the next one)
    fake.drop_stream_connections()     close every trade_updates socket (clients reconnect)
    fake.listening()                   number of sockets listening to trade_updates

Counters:
    fake.faults_injected               Counter of faults by kind (REST and stream)
    fake.orders_created                orders created by POST /v2/orders (legs not counted)
    fake.orders_by_client_id()         {client_order_id: [order JSON, ...]} for every created parent order, so a
                                       harness can assert none was placed twice (with enforce_unique_client_ids=False
                                       the fake accepts a repeated id, like a broker without that guard) and none lost
    fake.order_posts                   Counter of POST /v2/orders attempts per client_order_id
    fake.duplicate_refusals            POSTs refused with 422 "client_order_id must be unique"
    fake.requests / fake.paths()       every request received (from FakeServer)

The server stops itself after max_lifetime seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.fakes.alpaca_book import AlpacaBook, Refusal
from tests.fakes.faults import FakeServer, Recorded, Reply, send_reply

RestFault = Literal["accept_then_timeout", "error_before", "error_after", "rate_limited", "drop_before", "drop_after"]
StreamFault = Literal["duplicate", "reorder"]
_CREATES = frozenset({"accept_then_timeout", "error_after", "drop_after"})


@dataclass(frozen=True)
class TradingFault:
    """One scripted misbehaviour of the REST API."""

    kind: RestFault
    method: str = "POST"
    path: str = "/v2/orders"
    delay: float = 2.0
    status: int = 500
    retry_after: str = "1"


class FakeAlpacaTradingServer(FakeServer):
    """Alpaca trading API v2 (orders, positions, account, clock, FILL activities) plus the trade_updates stream."""

    def __init__(self, key_id: str = "AKFAKETRADING", secret_key: str = "fake-trading-secret", *,  # noqa: S107
                 cash: Decimal = Decimal("100000"), max_lifetime: float = 300.0,
                 enforce_unique_client_ids: bool = True, fill_chunks: int = 1,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(max_lifetime)
        self.key_id, self.secret_key = key_id, secret_key
        self.book = AlpacaBook(cash, clock, self._publish, enforce_unique_client_ids=enforce_unique_client_ids,
                               fill_chunks=fill_chunks)
        self.faults_injected: Counter[str] = Counter()
        self.order_posts: Counter[str] = Counter()
        self.duplicate_refusals = 0
        self._scripted: deque[TradingFault] = deque()
        self._random: list[tuple[dict[str, float], random.Random, str, str]] = []
        self._stream_scripted: deque[StreamFault] = deque()
        self._stream_random: tuple[dict[str, float], random.Random] | None = None
        self._held: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: dict[ServerConnection, asyncio.Queue[str | None]] = {}
        self._ws_port = 0

    # --- public controls -------------------------------------------------------------------------

    @property
    def stream_url(self) -> str:
        """Return ws://127.0.0.1:<port>/stream for TradingStream(url_override=...)."""
        return f"ws://127.0.0.1:{self._ws_port}/stream"

    @property
    def orders_created(self) -> int:
        """Return how many orders POST /v2/orders created (legs not counted)."""
        with self.book.lock:
            return len(self.book.created)

    def orders_by_client_id(self) -> dict[str, list[dict[str, Any]]]:
        """Return every created parent order grouped by client_order_id (more than one means placed twice)."""
        with self.book.lock:
            out: dict[str, list[dict[str, Any]]] = {}
            for o in self.book.created:
                out.setdefault(o.client_order_id, []).append(o.as_json())
            return out

    def set_price(self, symbol: str, price: Decimal | str | float) -> None:
        """Set the market price of symbol; working orders fill or trigger against it."""
        self.book.set_price(symbol, Decimal(str(price)))

    def delay_fills(self, seconds: float) -> None:
        """Make orders fill `seconds` after acceptance instead of at once."""
        self.book.fill_delay = seconds

    def inject(self, kind: RestFault, times: int = 1, *, method: str = "POST", path: str = "/v2/orders",
               delay: float = 2.0, status: int = 500, retry_after: str = "1") -> None:
        """Apply a fault to the next `times` requests matching method and path prefix."""
        fault = TradingFault(kind, method.upper(), path, delay, status, retry_after)
        with self._lock:
            self._scripted.extend(fault for _ in range(times))

    def random_faults(self, rates: dict[str, float], *, seed: int = 0, method: str = "POST",
                      path: str = "/v2/orders") -> None:
        """Inject each fault kind at its probability on matching requests, reproducibly from seed."""
        with self._lock:
            self._random.append((dict(rates), random.Random(seed), method.upper(), path))

    def inject_stream(self, kind: StreamFault, times: int = 1) -> None:
        """Apply a stream fault to the next `times` trade updates."""
        with self._lock:
            self._stream_scripted.extend(kind for _ in range(times))

    def random_stream_faults(self, rates: dict[str, float], *, seed: int = 0) -> None:
        """Duplicate or reorder trade updates at the given probabilities, reproducibly from seed."""
        with self._lock:
            self._stream_random = (dict(rates), random.Random(seed))

    def listening(self) -> int:
        """Return how many sockets listen to trade_updates."""
        return len(self._sockets)

    def drop_stream_connections(self) -> None:
        """Close every trade_updates socket."""
        if self._loop is not None:
            for ws in list(self._sockets):
                asyncio.run_coroutine_threadsafe(ws.close(), self._loop)

    # --- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> FakeAlpacaTradingServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib hook name
                fake._serve(self)

            do_POST = do_DELETE = do_PATCH = do_GET  # noqa: N815 - stdlib hook names

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        started = threading.Event()
        self._ws_thread = threading.Thread(target=lambda: asyncio.run(self._ws_main(started)), daemon=True)
        self._ws_thread.start()
        if not started.wait(10):
            raise RuntimeError("fake trade_updates server did not start")
        self._watchdog = threading.Timer(self._max_lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def stop(self) -> None:
        """Stop both servers and pending fill timers; idempotent."""
        self.book.close()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._ws_stop.set)
        super().stop()
        if getattr(self, "_ws_thread", None) is not None and self._ws_thread is not threading.current_thread():
            self._ws_thread.join(5)

    # --- REST ------------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> TradingFault | None:
        with self._lock:
            for i, fault in enumerate(self._scripted):
                if fault.method == method and path.startswith(fault.path):
                    del self._scripted[i]
                    return fault
            for rates, rng, m, prefix in self._random:
                if m == method and path.startswith(prefix):
                    roll, acc = rng.random(), 0.0
                    for kind, p in rates.items():
                        acc += p
                        if roll < acc:
                            return TradingFault(kind, method, path)  # type: ignore[arg-type]
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw_body = h.rfile.read(length) if length else b""
        req = Recorded(h.command, path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                       {k.lower(): v for k, v in h.headers.items()}, time.monotonic())
        fault = self._take_fault(h.command, path)
        with self._lock:
            self.requests.append(req)
            if fault is not None:
                self.faults_injected[fault.kind] += 1
        if fault is not None and fault.kind == "drop_before":
            h.close_connection = True
            return
        if fault is not None and fault.kind in ("error_before", "rate_limited"):
            reply = Reply(fault.status if fault.kind == "error_before" else 429,
                          {"code": 50010000, "message": "internal server error"} if fault.kind == "error_before"
                          else {"code": 42910000, "message": "rate limit exceeded"})
            if fault.kind == "rate_limited":
                reply.headers["Retry-After"] = fault.retry_after
            return self._send(h, reply)
        try:
            reply = self._route(h.command, path, req, raw_body)
        except Refusal as exc:
            reply = Reply(exc.status, {"code": exc.code, "message": exc.message})
        except Exception as exc:  # a bug in the fake should read as a 500, not a hung client
            reply = Reply(500, {"code": 50010000, "message": f"fake error: {exc!r}"})
        if fault is None:
            return self._send(h, reply)
        if fault.kind == "drop_after":
            h.close_connection = True
            return
        if fault.kind == "error_after":
            return self._send(h, Reply(fault.status, {"code": 50010000, "message": "internal server error"}))
        if not self._stop.wait(fault.delay):  # accept_then_timeout: the client has given up by now
            self._send(h, reply)

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        raw = b"" if reply.body is None and reply.status == 204 else json.dumps(reply.body).encode()
        send_reply(h, reply.status, raw, reply.headers)

    def _route(self, method: str, path: str, req: Recorded, raw_body: bytes) -> Reply:
        if req.headers.get("apca-api-key-id") != self.key_id or \
                req.headers.get("apca-api-secret-key") != self.secret_key:
            return Reply(401, {"code": 40110000, "message": "request is not authorized"})
        q = req.query
        if method == "POST" and path == "/v2/orders":
            body = json.loads(raw_body or b"{}")
            cid = str(body.get("client_order_id") or "")
            with self._lock:
                self.order_posts[cid] += 1
            try:
                return Reply(200, self.book.submit(body))
            except Refusal as exc:
                if exc.message == "client_order_id must be unique":
                    with self._lock:
                        self.duplicate_refusals += 1
                raise
        if method == "GET" and path == "/v2/orders":
            nested = q.get("nested", "false").lower() == "true"
            return Reply(200, self.book.listing(q.get("status", "open"), nested, int(q.get("limit", 50))))
        if method == "GET" and path == "/v2/orders:by_client_order_id":
            with self.book.lock:
                found = self.book.by_client_id.get(q.get("client_order_id", ""))
                if not found:
                    raise Refusal(404, 40410000, "order not found")
                return Reply(200, found[0].as_json())
        if path.startswith("/v2/orders/"):
            order_id = path.removeprefix("/v2/orders/")
            if method == "DELETE":
                self.book.cancel(order_id)
                return Reply(204, None)
            with self.book.lock:
                if (o := self.book.orders.get(order_id)) is None:
                    raise Refusal(404, 40410000, "order not found")
                return Reply(200, o.as_json())
        if method == "GET" and path == "/v2/account":
            return Reply(200, self.book.account())
        if method == "GET" and path == "/v2/positions":
            return Reply(200, self.book.position_list())
        if method == "GET" and path == "/v2/clock":
            now = self.book.clock().astimezone(UTC).isoformat()
            return Reply(200, {"timestamp": now, "is_open": True, "next_open": now, "next_close": now})
        if method == "GET" and (path == "/v2/account/activities/FILL" or
                                (path == "/v2/account/activities" and q.get("activity_types") == "FILL")):
            return Reply(200, self.book.activity_page(q.get("after"), q.get("page_token"),
                                                      q.get("direction", "desc"), int(q.get("page_size", 100))))
        raise Refusal(404, 40410000, f"endpoint not found: {method} {path}")

    # --- trade_updates stream --------------------------------------------------------------------

    async def _ws_main(self, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._ws_stop = asyncio.Event()
        async with serve(self._ws_client, "127.0.0.1", 0) as server:
            self._ws_port = next(iter(server.sockets)).getsockname()[1]
            started.set()
            await self._ws_stop.wait()
            for ws, queue in list(self._sockets.items()):
                queue.put_nowait(None)
                await ws.close()

    async def _ws_client(self, ws: ServerConnection) -> None:
        try:
            msg = json.loads(await ws.recv())
            data = msg.get("data") or {}
            ok = (msg.get("action") in ("authenticate", "auth") and data.get("key_id") == self.key_id
                  and data.get("secret_key") == self.secret_key)
            await ws.send(json.dumps({"stream": "authorization", "data": {
                "action": "authenticate", "status": "authorized" if ok else "unauthorized"}}))
            if not ok:
                return
            msg = json.loads(await ws.recv())
            streams = list((msg.get("data") or {}).get("streams") or [])
            await ws.send(json.dumps({"stream": "listening", "data": {"streams": streams}}))
            if "trade_updates" not in streams:
                return
            queue: asyncio.Queue[str | None] = asyncio.Queue()
            self._sockets[ws] = queue
            reader = asyncio.create_task(self._until_closed(ws, queue))
            try:
                while (text := await queue.get()) is not None:
                    await ws.send(text)
            finally:
                reader.cancel()
        except (ConnectionClosed, json.JSONDecodeError):
            pass
        finally:
            self._sockets.pop(ws, None)

    @staticmethod
    async def _until_closed(ws: ServerConnection, queue: asyncio.Queue[str | None]) -> None:
        # The sender waits on the queue; this wakes it when the client goes away.
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        queue.put_nowait(None)

    def _stream_fault(self) -> str | None:
        with self._lock:
            if self._stream_scripted:
                kind: str | None = self._stream_scripted.popleft()
            elif self._stream_random is not None:
                rates, rng = self._stream_random
                roll, acc, kind = rng.random(), 0.0, None
                for k, p in rates.items():
                    acc += p
                    if roll < acc:
                        kind = k
                        break
            else:
                kind = None
            if kind is not None:
                self.faults_injected[kind] += 1
            return kind

    def _publish(self, message: dict[str, Any]) -> None:
        """Push one trade update to every listening socket, applying stream faults (called under the book lock)."""
        text = json.dumps(message)
        kind = self._stream_fault()
        if kind == "reorder" and self._held is None:
            self._held = text
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.call_later, 0.3, self._flush_held)
            return
        texts = [text, text] if kind == "duplicate" else [text]
        if self._held is not None:
            texts.append(self._held)
            self._held = None
        for t in texts:
            self._broadcast(t)

    def _flush_held(self) -> None:
        with self.book.lock:
            held, self._held = self._held, None
        if held is not None:
            self._broadcast(held)

    def _broadcast(self, text: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for queue in list(self._sockets.values()):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, text)
            except RuntimeError:  # the loop closed while stopping
                return
