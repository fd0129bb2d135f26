"""The tick path: band check, slow-path ratchet and hit detection, exit dispatch off the hot path."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tradebot.sentinel.levels import Hit, LevelBook

log = logging.getLogger(__name__)

# Starts the exit for one hit without blocking (e.g. hands it to a worker thread) and returns its future.
ExitDispatch = Callable[[Hit], "asyncio.Future[Any]"]
StampFn = Callable[[Any], datetime]  # turns a feed's raw trade time into an aware UTC datetime


def freeze_heap() -> None:
    """Move everything alive now out of the collector's reach, so a full collection never stalls a tick for long.

    Called once the sentinel is built: the many objects its imports leave behind (Prefect, pandas, SQLAlchemy)
    would otherwise be walked by every generation-2 collection, a pause of tens of milliseconds.
    """
    gc.collect()
    gc.freeze()


def now_stamp(_: Any = None) -> datetime:
    """Return now (for feeds whose trades carry no usable time)."""
    return datetime.now(UTC)


class SentinelEngine:
    """Checks every trade against its symbol's band and dispatches an exit per hit, exactly once per position."""

    def __init__(self, book: LevelBook, dispatch: ExitDispatch, rearm_after: float = 5.0) -> None:
        self.book = book
        self.rearm_after = rearm_after  # a failed exit is retried on a crossing after this pause, not every tick
        self._bands = book.bands  # the very dict the book keeps current
        self._dispatch = dispatch
        self._inflight: set[asyncio.Future[Any]] = set()
        self.ticks = 0
        self.crossings = 0  # ticks that took the slow path
        self.hits = 0
        self.failed_dispatches = 0

    def on_trade(self, symbol: str, price: float, stamp: Any, stamp_fn: StampFn) -> None:
        """Handle one trade: nothing unless the price leaves the symbol's band (hot path)."""
        self.ticks += 1
        band = self._bands.get(symbol)
        if band is None or band[0] < price < band[1]:
            return
        self._cross(symbol, price, stamp_fn(stamp))

    def _cross(self, symbol: str, price: float, ts: datetime) -> None:
        self.crossings += 1
        for hit in self.book.on_cross(symbol, price, ts):
            self.hits += 1
            # Dispatch first, log after: the exit is what is urgent.
            try:
                fut = self._dispatch(hit)
            except Exception as exc:
                self._failed(hit, exc)
                continue
            self._inflight.add(fut)
            fut.add_done_callback(functools.partial(self._done, hit=hit))
            log.info("%s %s: %s", hit.position.account, hit.position.symbol, hit.reason)

    def _done(self, fut: asyncio.Future[Any], *, hit: Hit) -> None:
        self._inflight.discard(fut)
        if not fut.cancelled() and (exc := fut.exception()) is not None:
            self._failed(hit, exc)

    def _failed(self, hit: Hit, exc: BaseException) -> None:
        # The exit path owns retries; what reaches here failed for good, so watch the position again.
        self.failed_dispatches += 1
        log.error("exit for %s %s failed (%s: %s); the position is watched again in %gs", hit.position.account,
                  hit.position.symbol, type(exc).__name__, exc, self.rearm_after)
        if self.rearm_after > 0:
            asyncio.get_running_loop().call_later(self.rearm_after, self.book.rearm, hit.position)
        else:
            self.book.rearm(hit.position)

    @property
    def in_flight(self) -> int:
        """Return how many exits are being dispatched right now."""
        return len(self._inflight)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for exits in flight (at shutdown), up to timeout seconds."""
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=timeout)
