"""Live trade feeds: Alpaca market-data streams (msgpack) via alpaca-py, Binance trade streams via python-binance.

Each feed owns at most one connection (Alpaca allows one market-data socket per key and endpoint), follows a
symbol set that changes as positions open and close, and hands every trade to the engine's on_trade.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import msgpack
from alpaca.data.enums import DataFeed
from alpaca.data.live import CryptoDataStream, StockDataStream
from websockets.exceptions import ConnectionClosed

from tradebot.sentinel.health import Backoff, FeedStatus

log = logging.getLogger(__name__)

OnTrade = Callable[[str, float, Any, Callable[[Any], datetime]], None]
_UNPACK_ERRORS = (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError)


def alpaca_stamp(ts: Any) -> datetime:
    """Turn an Alpaca trade time (msgpack Timestamp) into an aware UTC datetime."""
    return ts.to_datetime() if isinstance(ts, msgpack.Timestamp) else datetime.now(UTC)


def binance_stamp(ms: Any) -> datetime:
    """Turn a Binance trade time (epoch milliseconds) into an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, UTC) if isinstance(ms, int | float) else datetime.now(UTC)


async def _noop(_: Any) -> None:
    """Placeholder handler: alpaca-py subscribes the symbols its handler table holds; frames come to us."""


class _SentinelStreamMixin:
    """Hooks into alpaca-py's DataStream: our backoff, connection status, and a lean msgpack consumer."""

    status: FeedStatus
    backoff: Backoff
    on_trade: OnTrade

    def _reconnect_delay(self, retries: int) -> float:
        return self.backoff.delay(retries)

    async def _start_ws(self) -> None:
        try:
            await super()._start_ws()  # type: ignore[misc]
        except Exception as exc:
            # Server messages only (e.g. "auth failed", "connection limit exceeded"): never the key itself.
            self.status.down(f"{type(exc).__name__}: {exc}")
            raise
        self.status.up()

    async def close(self) -> None:
        self.status.down()
        await super().close()  # type: ignore[misc]

    async def stop_ws(self) -> None:
        await super().stop_ws()  # type: ignore[misc]
        ws = self._ws  # type: ignore[attr-defined]
        if ws is not None:
            await ws.close()

    async def drop(self) -> None:
        """Close the socket so the library reconnects (used when the feed went silent)."""
        ws = self._ws  # type: ignore[attr-defined]
        if ws is not None:
            await ws.close()

    async def _consume(self) -> bool:
        # Replaces alpaca-py's consumer: one try per frame, no pydantic models, malformed frames counted.
        status, stamp = self.status, alpaca_stamp
        # No wait_for around recv (it costs a task per frame): stop_ws closes the socket, which ends recv.
        stop_q, ws = self._stop_stream_queue, self._ws  # type: ignore[attr-defined]
        while True:
            if not stop_q.empty():
                stop_q.get(timeout=1)
                await self.close()
                return False
            try:
                raw = await ws.recv()
            except ConnectionClosed:
                if self._should_run:  # type: ignore[attr-defined]
                    raise  # a drop: alpaca-py reconnects with our backoff and resubscribes
                await self.close()  # our own stop_ws closed it: a quiet stop, not an error
                return False
            status.frame()
            on_trade = self.on_trade  # read per frame: the handler may be swapped while connected
            try:
                msgs = msgpack.unpackb(raw)
            except _UNPACK_ERRORS as exc:
                status.bad(f"frame not msgpack ({type(exc).__name__})")
                continue
            if msgs.__class__ is not list:
                status.bad(f"frame is not an array: {type(msgs).__name__}")
                continue
            for m in msgs:
                try:
                    if m["T"] == "t":
                        p = m["p"]
                        on_trade(m["S"], p if p.__class__ is float else _price(p), m["t"], stamp)
                    else:
                        self._control(m)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    status.bad(f"{type(exc).__name__} in {str(m)[:120]}")

    def _control(self, m: dict) -> None:
        kind = m.get("T")
        if kind == "error":
            # 406 connection limit, 407 slow client, 409 insufficient subscription...: the server closes next.
            self.status.last_error = f"alpaca error {m.get('code')}: {m.get('msg')}"
            log.warning("%s: %s", self.status.name, self.status.last_error)
        elif kind == "subscription":
            log.info("%s: subscribed trades %s", self.status.name, m.get("trades"))


def _price(p: Any) -> float:
    if p.__class__ is int:
        return float(p)
    raise TypeError(f"price {p!r} is not a number")


class _StockStream(_SentinelStreamMixin, StockDataStream):
    pass


class _CryptoStream(_SentinelStreamMixin, CryptoDataStream):
    pass


class AlpacaTradeFeed:
    """Trades for a changing symbol set over one Alpaca market-data connection (stocks or crypto)."""

    def __init__(self, name: str, crypto: bool, url: str, key: str, secret: str, on_trade: OnTrade,
                 backoff: Backoff | None = None, feed: str = "iex") -> None:
        self.name, self.crypto, self.url = name, crypto, url
        self._key, self._secret = key, secret
        self._feed = feed
        self.on_trade = on_trade
        self.backoff = backoff or Backoff()
        self.status = FeedStatus(name)
        self._stream: _StockStream | _CryptoStream | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def accepts(self, symbol: str) -> bool:
        """Return True for crypto pairs on the crypto feed and for stocks on the stock feed."""
        return ("/" in symbol) == self.crypto

    async def reconnect(self) -> None:
        """Close the socket; alpaca-py connects again and resubscribes everything."""
        if self._stream is not None:
            await self._stream.drop()

    def _new_stream(self) -> _StockStream | _CryptoStream:
        if self.crypto:
            s: Any = _CryptoStream(self._key, self._secret, raw_data=True, url_override=self.url)
        else:
            s = _StockStream(self._key, self._secret, raw_data=True, feed=DataFeed(self._feed), url_override=self.url)
        s.status, s.backoff, s.on_trade = self.status, self.backoff, self.on_trade
        return s

    async def set_symbols(self, symbols: Iterable[str]) -> None:
        """Follow exactly these symbols: subscribe the new, unsubscribe the gone, stop when none are left."""
        want = frozenset(symbols)
        async with self._lock:
            have = self.status.symbols
            alive = self._task is not None and not self._task.done()
            if want == have and (alive or not want):
                return
            self.status.symbols = want
            if not want:
                await self._stop()
                return
            if self._stream is None or self._task is None or self._task.done():
                await self._stop()
                self._stream = self._new_stream()
                self._stream._handlers["trades"] = dict.fromkeys(want, _noop)
                self._task = asyncio.get_running_loop().create_task(self._stream._run_forever(), name=self.name)
                return
            s = self._stream
            gone, new = have - want, want - have
            for sym in new:
                s._handlers["trades"][sym] = _noop
            for sym in gone:
                s._handlers["trades"].pop(sym, None)
            if s._running and s._ws is not None:
                # The library's own subscribe helpers block on run_coroutine_threadsafe: we are on its loop.
                with contextlib.suppress(Exception):  # a dropped socket resubscribes everything on reconnect
                    if new:
                        await s._send_subscribe_msg()
                    if gone:
                        await s._send_unsubscribe_msg("trades", sorted(gone))

    async def _stop(self) -> None:
        s, task = self._stream, self._task
        self._stream = self._task = None
        if s is not None:
            await s.stop_ws()
        if task is not None:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                log.exception("%s stopped with an error", self.name)
        self.status.down()

    async def close(self) -> None:
        """Close the connection for good."""
        async with self._lock:
            self.status.symbols = frozenset()
            await self._stop()
