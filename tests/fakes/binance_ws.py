"""FakeBinanceTradeStreamServer: Binance's combined market streams (JSON trades) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tests.fakes.ws_thread import ThreadedWebSocketServer


def binance_trade(symbol: str, price: float | str, trade_id: int = 1, ts_ms: int | None = None) -> dict:
    """Return one <symbol>@trade payload as Binance sends it (prices and quantities are strings)."""
    now = ts_ms if ts_ms is not None else int(time.time() * 1000)
    return {"e": "trade", "E": now, "s": symbol.upper(), "t": trade_id, "p": str(price), "q": "0.01000000",
            "T": now, "m": False, "M": True}


@dataclass
class _Client:
    conn: ServerConnection
    streams: frozenset[str]


class FakeBinanceTradeStreamServer(ThreadedWebSocketServer):
    """Serves /stream?streams=a@trade/b@trade (combined: {"stream", "data"}) and /ws/<stream> (raw payloads)."""

    thread_name = "fake-binance-ws"

    def __init__(self, max_lifetime: float = 120.0) -> None:
        super().__init__(max_lifetime)
        self.clients: list[_Client] = []
        self.connections = 0
        self.paths: list[str] = []
        self.refuse = False

    @property
    def url(self) -> str:
        """Return the base URL python-binance takes as STREAM_URL (trailing slash included)."""
        return f"ws://127.0.0.1:{self.port}/"

    async def _handle(self, conn: ServerConnection) -> None:
        self.connections += 1
        raw_path = conn.request.path if conn.request else ""
        self.paths.append(raw_path)
        if self.refuse:
            conn.transport.abort()
            return
        parts = urlsplit(raw_path)
        if parts.path == "/stream":
            streams = frozenset(parse_qs(parts.query).get("streams", [""])[0].split("/")) - {""}
        elif parts.path.startswith("/ws/"):
            streams = frozenset({parts.path[4:]})
        else:
            await conn.close(1008, "unknown path")
            return
        client = _Client(conn, streams)
        self.clients.append(client)
        try:
            async for _ in conn:  # Binance ignores what clients send on a market stream (but pings)
                pass
        except ConnectionClosed:
            pass
        finally:
            if client in self.clients:
                self.clients.remove(client)

    def streams(self) -> set[str]:
        """Return every stream a connected client listens to."""
        return set().union(*(c.streams for c in self.clients))

    def publish(self, *trades: dict) -> int:
        """Send each trade to the clients listening to <symbol>@trade; return frames sent."""
        async def go() -> int:
            sent = 0
            for t in trades:
                name = f"{t['s'].lower()}@trade"
                for c in list(self.clients):
                    if name in c.streams:
                        combined = c.conn.request is not None and c.conn.request.path.startswith("/stream")
                        with contextlib.suppress(ConnectionClosed):
                            await c.conn.send(json.dumps({"stream": name, "data": t} if combined else t))
                            sent += 1
            return sent
        return int(self._call(go()))

    def send_raw(self, text: str) -> None:
        """Send one raw text frame to every client (e.g. malformed JSON)."""
        async def go() -> None:
            for c in list(self.clients):
                with contextlib.suppress(ConnectionClosed):
                    await c.conn.send(text)
        self._call(go())

    def drop(self) -> int:
        """Abort every connection without a close frame; return how many."""
        async def go() -> int:
            gone = list(self.clients)
            self.clients.clear()
            for c in gone:
                c.conn.transport.abort()
            return len(gone)
        return int(self._call(go()))

