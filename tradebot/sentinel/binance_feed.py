"""Binance trade streams for the sentinel via python-binance's BinanceSocketManager (one combined stream)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from tradebot.sentinel.feeds import OnTrade, binance_stamp
from tradebot.sentinel.health import Backoff, FeedStatus

log = logging.getLogger(__name__)


class BinanceTradeFeed:
    """Trades for a changing set of crypto pairs over one combined Binance stream (<symbol>@trade).

    A new symbol set opens the new combined stream before the old one closes (make before break), so no
    trade window is lost; python-binance reconnects a dropped socket itself, and when it gives up this
    feed opens a fresh one after our backoff.
    """

    accepts_crypto_only = True

    def __init__(self, name: str, stream_url: str, on_trade: OnTrade, backoff: Backoff | None = None,
                 quote_map: Mapping[str, str] | None = None, max_queue: int = 10_000) -> None:
        self.name, self.stream_url = name, stream_url if stream_url.endswith("/") else stream_url + "/"
        self.on_trade = on_trade
        self.backoff = backoff or Backoff()
        self.status = FeedStatus(name)
        self._quotes = dict(quote_map or {"USD": "USDT"})
        self._max_queue = max_queue
        self._venue: dict[str, str] = {}  # BTCUSDT -> BTC/USD
        self._client: Any = None
        self._manager: Any = None
        self._task: asyncio.Task[None] | None = None
        self._sock: list[Any] = [None]  # the current task's socket, so a stop can close it at once
        self._lock = asyncio.Lock()

    def accepts(self, symbol: str) -> bool:
        """Return True for crypto pairs (BTC/USD): Binance lists them against its quote assets."""
        return "/" in symbol

    def venue_symbol(self, symbol: str) -> str:
        """Map BTC/USD to BTCUSDT."""
        base, _, quote = symbol.partition("/")
        return f"{base}{self._quotes.get(quote, quote)}".upper()

    async def set_symbols(self, symbols: Iterable[str]) -> None:
        """Follow exactly these pairs: a changed set switches to a new combined stream."""
        want = frozenset(s for s in symbols if self.accepts(s))
        async with self._lock:
            alive = self._task is not None and not self._task.done()
            if want == self.status.symbols and (alive or not want):
                return
            self.status.symbols = want
            self._venue = {self.venue_symbol(s): s for s in want}
            old, old_sock = self._task, self._sock
            self._task, self._sock = None, [None]
            if want:
                await self._ensure_manager()
                streams = sorted(f"{v.lower()}@trade" for v in self._venue)
                started = asyncio.get_running_loop().create_future()
                self._task = asyncio.get_running_loop().create_task(self._run(streams, started, self._sock),
                                                                    name=self.name)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(started), 5)
            if old is not None:
                await _shut(old, old_sock[0])
            if not want:
                self.status.down()

    async def _ensure_manager(self) -> None:
        if self._manager is None:
            from binance import AsyncClient, BinanceSocketManager

            # The constructor makes no network call (create() would ping the REST API first).
            self._client = AsyncClient()
            self._manager = BinanceSocketManager(self._client, max_queue_size=self._max_queue)
            self._manager.STREAM_URL = self.stream_url

    async def _run(self, streams: list[str], started: asyncio.Future[None], holder: list[Any]) -> None:
        attempt = 0
        while True:
            try:
                sock = holder[0] = self._manager.multiplex_socket(streams)
                async with sock as s:
                    self.status.up()
                    attempt = 0
                    if not started.done():
                        started.set_result(None)
                    await self._consume(s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.status.down(f"{type(exc).__name__}: {exc}")
                log.warning("%s: stream ended (%s); reconnecting", self.name, self.status.last_error)
            attempt += 1
            self.status.connected = False
            await asyncio.sleep(self.backoff.delay(attempt))

    async def _consume(self, sock: Any) -> None:
        status, venue, stamp = self.status, self._venue, binance_stamp
        while True:
            msg = await sock.recv()
            status.frame()
            try:
                data = msg.get("data", msg)
                kind = data.get("e")
                if kind == "trade":
                    self.on_trade(venue[data["s"]], float(data["p"]), data["T"], stamp)
                elif kind == "error":
                    # python-binance's note that the socket dropped; it reconnects and the next trade says so.
                    status.connected = False
                    status.last_error = f"{data.get('type')}: {data.get('m')}"
                    if "JSON" in str(data.get("type")):
                        # python-binance ends its read loop on a frame that is not JSON: counted, then reopened.
                        status.bad(status.last_error)
                        return
                    if data.get("type") in ("BinanceWebsocketUnableToConnect", "BinanceWebsocketQueueOverflow"):
                        return
                else:
                    status.bad(f"unexpected event {str(msg)[:120]}")
                    continue
                if kind == "trade" and not status.connected:
                    status.up()
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                status.bad(f"{type(exc).__name__} in {str(msg)[:120]}")

    async def reconnect(self) -> None:
        """Open the stream afresh (it went silent)."""
        syms = self.status.symbols
        self.status.symbols = frozenset()
        await self.set_symbols(syms)

    async def close(self) -> None:
        """Close the stream and the client session."""
        await self.set_symbols(())
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.close_connection()
        self._client = self._manager = None


async def _shut(task: asyncio.Task[None], sock: Any) -> None:
    """Stop a stream task now: python-binance would otherwise sit in recv for up to its 10 s timeout."""
    if sock is not None:
        from binance.ws.constants import WSListenerState

        sock.ws_state = WSListenerState.EXITING  # first, so the closed socket is not taken for a drop
        if sock.ws is not None:
            with contextlib.suppress(Exception):
                await sock.ws.close()
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
