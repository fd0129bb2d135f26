"""The sentinel's asyncio orchestration: positions -> subscriptions, health and REST fallback, write-back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from tradebot.adapters.ports import Broker, OrderEventStream
from tradebot.domain import OrderEvent
from tradebot.execution.market_hours import Session as MarketSession
from tradebot.execution.market_hours import guess_asset_class, stock_session
from tradebot.execution.order_stream import follow_order_events
from tradebot.sentinel.config import SentinelConfig
from tradebot.sentinel.engine import SentinelEngine, freeze_heap, now_stamp
from tradebot.sentinel.exits import ExitOutcome, ExitPath
from tradebot.sentinel.health import Backoff, FeedStatus, ProtectionGuard, feed_stale
from tradebot.sentinel.levels import LevelBook, Watched
from tradebot.sentinel.metrics import SentinelMetrics
from tradebot.sentinel.notify import Notifier
from tradebot.sentinel.positions import load_watched, write_levels
from tradebot.store.db import transaction

log = logging.getLogger(__name__)
RestPrices = Callable[[Sequence[str]], Mapping[str, Decimal | float]]  # blocking: latest trade price per symbol


class Feed(Protocol):
    """A live trade feed the runner drives."""

    name: str
    status: FeedStatus

    def accepts(self, symbol: str) -> bool:
        """Return True when this feed carries symbol."""
        ...

    async def set_symbols(self, symbols: frozenset[str]) -> None:
        """Follow exactly these symbols."""
        ...

    async def reconnect(self) -> None:
        """Drop the connection so it is made again (a silent feed)."""
        ...

    async def close(self) -> None:
        """Close for good."""
        ...


def market_open(symbols: frozenset[str], now: datetime) -> bool:
    """Return True when any of symbols trades now (crypto always; stocks in NYSE regular hours)."""
    if any(guess_asset_class(s).value == "crypto" for s in symbols):
        return True
    return bool(symbols) and stock_session(now) is MarketSession.REGULAR


class Sentinel:
    """Watches the accounts' positions on live feeds and exits on stops; run() until cancelled."""

    def __init__(self, cfg: SentinelConfig, sessions: sessionmaker[Session], brokers: Mapping[str, Broker],
                 feeds: Sequence[Feed], *, rest_prices: RestPrices | None = None, notifier: Notifier | None = None,
                 metrics: SentinelMetrics | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 make_feeds: Callable[[Callable[..., None]], Sequence[Feed]] | None = None,
                 order_streams: Mapping[str, OrderEventStream] | None = None) -> None:
        self.cfg, self.sessions, self.brokers = cfg, sessions, dict(brokers)
        # account -> its broker's push channel of order updates, booked as they arrive (polling stays the net).
        self.order_streams = dict(order_streams or {})
        self.clock = clock
        self.notifier = notifier or Notifier(None)
        self.book = LevelBook()
        self.exits = ExitPath(sessions, lambda w: self.brokers[w.account], self._on_exit,
                              attempts=cfg.exit_attempts, enforce_hours=cfg.enforce_market_hours, clock=clock)
        self.engine = SentinelEngine(self.book, self.exits)
        self.feeds: list[Feed] = list(make_feeds(self.engine.on_trade)) if make_feeds else list(feeds)
        self.rest_prices = rest_prices
        self.guard = ProtectionGuard(cfg.unprotected_alert_seconds, self.notifier.alert,
                                     replace_looser=cfg.replace_broker_stops, min_move_pct=cfg.replace_min_move_pct,
                                     clock=clock)
        self.metrics = metrics
        self.outcomes: list[ExitOutcome] = []
        self.rest_polls = 0
        self.stale_alerted: set[str] = set()
        self._last_protect = -float("inf")
        self._last_poll = -float("inf")

    # -- wiring ---------------------------------------------------------------------------------------------

    def _on_exit(self, outcome: ExitOutcome) -> None:
        # Runs on an exit thread: keep it to appends and the notifier (the router is thread-safe).
        self.outcomes.append(outcome)
        self.notifier(outcome)
        if self.metrics is not None:
            self.metrics.exit(outcome)

    @property
    def accounts(self) -> list[str]:
        """Return the watched accounts (ledger run ids)."""
        return list(self.brokers)

    # -- loops ----------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Refresh, watch, check health and write back until cancelled; feeds close, broker stops stay."""
        await self.refresh()
        freeze_heap()
        loops = [self._every(self.cfg.refresh_seconds, self.refresh), self._every(self.cfg.write_back_seconds,
                                                                               self.write_back),
                 self._every(self.cfg.health_interval_seconds, self.health),
                 *(self._follow(account, stream) for account, stream in self.order_streams.items())]
        tasks = [asyncio.create_task(c) for c in loops]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.shutdown()

    async def shutdown(self) -> None:
        """Close the feeds and let exits in flight finish (broker-side stops are never touched here)."""
        for f in self.feeds:
            with contextlib.suppress(Exception):
                await f.close()
        await self.engine.drain()
        await asyncio.to_thread(self.exits.close)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.write_back_now)

    async def _every(self, seconds: float, step: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                # One failed pass (ledger locked, broker down) must not end the sentinel: the next one retries.
                log.exception("sentinel %s pass failed", getattr(step, "__name__", "?"))

    async def _follow(self, account: str, stream: OrderEventStream) -> None:
        from tradebot.prefect_events import order_unknown

        def unknown(ev: OrderEvent) -> None:
            order_unknown(ev.client_order_id, ev.fill.symbol if ev.fill else "", account,
                          f"streamed {ev.status.value} update for an order the ledger does not know")

        attempt = 0
        while True:
            try:
                await follow_order_events(stream, self.sessions, account, self.brokers[account].name, unknown,
                                          self.clock)
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("order stream of %s failed; following it again", account)
            attempt += 1
            await asyncio.sleep(Backoff(self.cfg.backoff_base_seconds, self.cfg.backoff_max_seconds).delay(attempt))

    async def refresh(self) -> None:
        """Re-read watched positions from the ledger and make the feeds follow their symbols."""
        watched = await asyncio.to_thread(self._load)
        self.book.replace_all(watched)
        symbols = frozenset(self.book.symbols())
        for f in self.feeds:
            await f.set_symbols(frozenset(s for s in symbols if f.accepts(s)))

    def _load(self) -> list[Watched]:
        with self.sessions() as s:
            return [w for acct in self.accounts for w in load_watched(s, acct)]

    async def write_back(self) -> None:
        """Store levels ratcheted here (every process then agrees) and move broker-side stops up."""
        moved = await asyncio.to_thread(self.write_back_now)
        if moved and self.cfg.replace_broker_stops:
            await asyncio.to_thread(self._verify, moved)

    def write_back_now(self) -> list[Watched]:
        """Write dirty levels to the ledger now; return the positions written."""
        dirty = [p for p in self.book.positions() if p.key in self.book.dirty]
        if not dirty:
            return []
        with transaction(self.sessions) as s:
            write_levels(s, dirty, self.clock())
        self.book.dirty.difference_update(p.key for p in dirty)
        return dirty

    async def health(self) -> None:
        """Check each feed; while any is down or stale, poll prices over REST and verify broker-side protection."""
        now, mono = self.clock(), time.monotonic()
        down: set[str] = set()
        bad: set[str] = set()
        for f in self.feeds:
            st = f.status
            if self.metrics is not None:
                self.metrics.feed(st)
            if not feed_stale(st, self.cfg.stale_after_seconds, market_open(st.symbols, now)):
                self.stale_alerted.discard(st.name)
                continue
            bad.add(st.name)
            down |= st.symbols
            if st.name not in self.stale_alerted:
                self.stale_alerted.add(st.name)
                self._stale_alert(st)
            if st.connected:
                log.warning("%s: connected but silent for %.0fs; reconnecting", st.name, st.stale_for())
                await f.reconnect()
        # A symbol stays covered while any healthy feed carries it (Binance backs up Alpaca crypto).
        healthy: set[str] = set().union(*(f.status.symbols for f in self.feeds if f.status.name not in bad))
        uncovered = sorted(down - healthy)
        if uncovered and self.rest_prices is not None and mono - self._last_poll >= self.cfg.rest_poll_seconds:
            self._last_poll = mono
            await self._poll(uncovered)
        every = self.cfg.rest_poll_seconds if uncovered else self.cfg.protect_check_seconds
        if mono - self._last_protect >= every:
            self._last_protect = mono
            await asyncio.to_thread(self._verify, list(self.book.positions()))
        if self.metrics is not None:
            self.metrics.engine(self.engine, len(self.guard.unprotected))

    async def _poll(self, symbols: list[str]) -> None:
        assert self.rest_prices is not None
        try:
            prices = await asyncio.to_thread(self.rest_prices, symbols)
        except Exception as exc:
            log.warning("REST price poll for %s failed: %s", ", ".join(symbols), exc)
            return
        self.rest_polls += 1
        for sym, price in prices.items():
            self.engine.on_trade(sym, float(price), None, now_stamp)

    def _verify(self, positions: Sequence[Watched]) -> None:
        for acct, broker in self.brokers.items():
            mine = [w for w in positions if w.account == acct]
            if not mine or not hasattr(broker, "protect"):
                continue  # the built-in paper broker has no resting orders to verify
            try:
                for problem in self.guard.verify(broker, mine):
                    log.warning("protection: %s", problem)
            except Exception as exc:
                log.warning("protection check at %s failed: %s", broker.name, exc)

    def _stale_alert(self, st: FeedStatus) -> None:
        from tradebot.alerts.events import FeedStale

        silent = st.stale_for()
        self.notifier.alert(FeedStale(feed=f"sentinel:{st.name}", stale_seconds=min(silent, 1e9),
                                      threshold_seconds=self.cfg.stale_after_seconds,
                                      last_update=st.last_error or None))
