"""FakeAlpacaStreamServer: Alpaca's market-data WebSocket (msgpack) for stocks and crypto on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgpack
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tests.fakes.ws_thread import ThreadedWebSocketServer

STOCK_PATH = "/v2/iex"
CRYPTO_PATH = "/v1beta3/crypto/us"
_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")


def trade(symbol: str, price: float, ts_ns: int | None = None, trade_id: int = 1, size: float = 100) -> dict:
    """Return one trade in Alpaca's stream format (t is a msgpack Timestamp, as the real feed sends)."""
    stamp = msgpack.Timestamp.from_unix_nano(ts_ns if ts_ns is not None else time.time_ns())
    return {"T": "t", "S": symbol, "i": trade_id, "x": "V", "p": price, "s": size, "t": stamp, "c": ["@"],
            "z": "C"}


def pack(messages: list[dict]) -> bytes:
    """Return messages packed the way Alpaca frames them: always one msgpack array."""
    return msgpack.packb(messages, datetime=False)


@dataclass
class StreamClient:
    """One connection as the fake sees it."""

    conn: ServerConnection
    path: str
    key: str | None = None
    subs: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in _CHANNELS})


class FakeAlpacaStreamServer(ThreadedWebSocketServer):
    """Speaks Alpaca's stream protocol: connected, auth, subscribe, trades in arrays, errors 402/406/407.

    Thread-safe control methods drive it from a test; it stops itself after max_lifetime seconds.
    """

    thread_name = "fake-alpaca-stream"
    max_size = 2**22

    def __init__(self, key: str = "key", secret: str = "secret", *, max_lifetime: float = 120.0,  # noqa: S107
                 max_pending_bytes: int | None = None) -> None:
        super().__init__(max_lifetime)
        self.key, self.secret = key, secret
        self.max_pending_bytes = max_pending_bytes  # a client this far behind is cut off with 407 slow client
        self.clients: list[StreamClient] = []
        self.connections = 0  # every accepted WebSocket handshake
        self.auth_failures = 0
        self.limit_refusals = 0
        self.slow_client_kicks = 0
        self.subscribe_messages: list[dict] = []
        self.refuse = False  # while True, new connections are closed right after the handshake

    @property
    def url(self) -> str:
        """Return the ws:// base URL (append STOCK_PATH or CRYPTO_PATH)."""
        return f"ws://127.0.0.1:{self.port}"

    # -- protocol -------------------------------------------------------------------------------------------

    async def _handle(self, conn: ServerConnection) -> None:
        self.connections += 1
        path = conn.request.path if conn.request else ""
        if self.refuse or path not in (STOCK_PATH, CRYPTO_PATH):
            conn.transport.abort()
            return
        client = StreamClient(conn, path)
        try:
            await conn.send(pack([{"T": "success", "msg": "connected"}]))
            async for raw in conn:
                msg = msgpack.unpackb(raw) if isinstance(raw, bytes) else {}
                await self._on_message(client, msg)
        except ConnectionClosed:
            pass
        finally:
            if client in self.clients:
                self.clients.remove(client)

    async def _on_message(self, client: StreamClient, msg: dict) -> None:
        action = msg.get("action")
        if action == "auth":
            if msg.get("key") != self.key or msg.get("secret") != self.secret:
                self.auth_failures += 1
                await client.conn.send(pack([{"T": "error", "code": 402, "msg": "auth failed"}]))
                await client.conn.close()
                return
            if any(c.key == self.key and c.path == client.path for c in self.clients):
                self.limit_refusals += 1
                await client.conn.send(pack([{"T": "error", "code": 406, "msg": "connection limit exceeded"}]))
                await client.conn.close()
                return
            client.key = self.key
            self.clients.append(client)
            await client.conn.send(pack([{"T": "success", "msg": "authenticated"}]))
        elif client.key is None:
            await client.conn.send(pack([{"T": "error", "code": 401, "msg": "not authenticated"}]))
        elif action in ("subscribe", "unsubscribe"):
            self.subscribe_messages.append(dict(msg))
            for ch in _CHANNELS:
                for sym in msg.get(ch, []) or []:
                    (client.subs[ch].add if action == "subscribe" else client.subs[ch].discard)(sym)
            await client.conn.send(pack([{"T": "subscription", **{ch: sorted(client.subs[ch]) for ch in _CHANNELS}}]))
        else:
            await client.conn.send(pack([{"T": "error", "code": 400, "msg": "invalid syntax"}]))

    # -- control (thread-safe) ------------------------------------------------------------------------------

    def subscribed(self, path: str = STOCK_PATH, channel: str = "trades") -> set[str]:
        """Return the symbols the (single) authenticated client on path is subscribed to."""
        return set().union(*(c.subs[channel] for c in self.clients if c.path == path))

    def authenticated(self, path: str = STOCK_PATH) -> int:
        """Return how many authenticated clients are connected on path."""
        return sum(1 for c in self.clients if c.path == path)

    def publish(self, messages: Iterable[dict], path: str = STOCK_PATH) -> int:
        """Send messages (one array) to every client subscribed to their symbols; return frames sent."""
        return int(self._call(self._publish(list(messages), path)))

    async def _publish(self, messages: list[dict], path: str) -> int:
        sent = 0
        for c in list(self.clients):
            if c.path != path:
                continue
            mine = [m for m in messages if m.get("S") in c.subs["trades"] or m.get("T") not in ("t",)]
            if mine and await self._send(c, pack(mine)):
                sent += 1
        return sent

    async def _send(self, c: StreamClient, frame: bytes) -> bool:
        if self.max_pending_bytes is not None and c.conn.transport.get_write_buffer_size() > self.max_pending_bytes:
            # Alpaca cuts off a client that cannot keep up rather than buffering for it without bound.
            self.slow_client_kicks += 1
            self.clients.remove(c)
            c.conn.transport.abort()
            return False
        try:
            await c.conn.send(frame)
            return True
        except ConnectionClosed:
            return False

    def send_raw(self, frame: bytes | str, path: str = STOCK_PATH) -> None:
        """Send one raw frame (e.g. malformed bytes) to every authenticated client on path."""
        async def go() -> None:
            for c in list(self.clients):
                if c.path == path:
                    await c.conn.send(frame)
        self._call(go())

    def drop(self, path: str | None = None) -> int:
        """Abort every connection (on path) without a close frame, as a network drop would; return how many."""
        async def go() -> int:
            gone = [c for c in self.clients if path is None or c.path == path]
            for c in gone:
                self.clients.remove(c)
                c.conn.transport.abort()
            return len(gone)
        return int(self._call(go()))
