"""Feed health: heartbeats and staleness, reconnect backoff with jitter, and the REST fallback while down."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradebot.adapters.ports import Broker
from tradebot.domain import ZERO, Order, OrderStatus, Protection, make_client_order_id
from tradebot.errors import BrokerError
from tradebot.sentinel.levels import Watched

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits uniform(0.1, 1) * min(cap, base * 2**(n-1))."""

    base: float = 0.5
    cap: float = 30.0
    rng: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        """Return the wait before reconnect attempt (1-based); never below 10% of the ceiling."""
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        # A small floor keeps a flapping server from being hammered when the jitter draws near zero.
        return ceiling * (0.1 + 0.9 * self.rng())


@dataclass
class FeedStatus:
    """What one feed reports about itself; read by the health loop and the metrics."""

    name: str
    connected: bool = False
    last_message: float | None = None  # time.monotonic() of the newest frame
    connects: int = 0
    reconnects: int = 0  # connections after the first one
    malformed: int = 0
    last_error: str = ""
    symbols: frozenset[str] = field(default_factory=frozenset)

    def frame(self) -> None:
        """Record that a frame arrived (the heartbeat)."""
        self.last_message = time.monotonic()

    def up(self) -> None:
        """Record a successful connection."""
        if self.connects:
            self.reconnects += 1
        self.connects += 1
        self.connected = True
        self.last_message = time.monotonic()

    def down(self, why: str = "") -> None:
        """Record that the connection is gone."""
        self.connected = False
        if why:
            self.last_error = why

    def bad(self, what: str) -> None:
        """Count a malformed message; log the first few and then every hundredth."""
        self.malformed += 1
        if self.malformed <= 5 or self.malformed % 100 == 0:
            log.warning("%s: skipped a malformed message (%d so far): %s", self.name, self.malformed, what[:200])

    def stale_for(self, now: float | None = None) -> float:
        """Return seconds since the last frame (since forever when none came)."""
        if self.last_message is None:
            return float("inf")
        return (now if now is not None else time.monotonic()) - self.last_message


def feed_stale(status: FeedStatus, stale_after: float, market_open: bool, now: float | None = None) -> bool:
    """Return True when a feed with symbols is down, or silent for stale_after seconds while its market is open."""
    if not status.symbols:
        return False
    if not status.connected:
        return True
    return market_open and status.stale_for(now) >= stale_after


def unhealthy(statuses: Mapping[str, FeedStatus], stale_after: float,
              market_open: Callable[[str], bool]) -> dict[str, FeedStatus]:
    """Return the feeds that are down or stale, by name."""
    return {n: s for n, s in statuses.items() if feed_stale(s, stale_after, market_open(n))}


class ProtectionGuard:
    """Verifies that every watched position holds a broker-side protective order, re-placing missing or looser ones.

    Blocking (broker REST): run it in a worker thread. A crash of the sentinel leaves whatever is at the broker in
    place, so protection is only ever added or tightened here, never removed (the exit path removes it).
    """

    def __init__(self, alert_after: float, alert: Callable[[Any], None], *, replace_looser: bool = True,
                 min_move_pct: float = 0.001, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.alert_after, self._alert = alert_after, alert
        self.replace_looser, self.min_move_pct = replace_looser, min_move_pct
        self._clock, self._mono = clock, monotonic
        self.unprotected: dict[tuple[str, str], float] = {}  # position key -> monotonic time first seen bare
        self._alerted: set[tuple[str, str]] = set()
        self._serial: dict[tuple[str, str], int] = {}
        self.placed = 0
        self.replaced = 0
        self.checks = 0

    def verify(self, broker: Broker, positions: Sequence[Watched]) -> list[str]:
        """Check positions against broker's working orders and holdings; return problems (empty when all good)."""
        from tradebot.sentinel.exits import protective_orders

        self.checks += 1
        orders = list(broker.open_orders())
        held = {p.symbol: p.qty for p in broker.positions()}
        problems: list[str] = []
        for w in positions:
            q = held.get(w.symbol, ZERO)
            if w.exiting or q == ZERO or (q > 0) != (w.qty > 0):
                self._clear(w.key)  # exiting, or flat at the broker: nothing left to protect
                continue
            mine = protective_orders(orders, w)
            if mine and not self._looser(mine, w):
                self._clear(w.key)
                continue
            self.unprotected.setdefault(w.key, self._mono())
            try:
                if mine:
                    for o in mine:
                        broker.cancel_order(o.parent_client_order_id or o.client_order_id, self._clock())
                self._place(broker, w, min(abs(w.qty), abs(q)))
                self.replaced += bool(mine)
                self._clear(w.key)
            except BrokerError as exc:
                problems.append(f"{w.account} {w.symbol}: protective order not placed: {exc}")
        self._raise_alerts(positions, problems)
        return problems

    def _looser(self, orders: Sequence[Order], w: Watched) -> bool:
        if not self.replace_looser:
            return False
        stops = [o.stop_price for o in orders if o.stop_price is not None]
        if not stops:
            return False
        want, step = w.levels.stop, w.levels.stop * Decimal(repr(self.min_move_pct))
        return (max(stops) < want - step) if w.levels.is_long else (min(stops) > want + step)

    def _place(self, broker: Broker, w: Watched, qty: Decimal) -> None:
        lv = w.levels
        protection = Protection(stop_price=lv.stop, take_profit=lv.take_profit)
        for _ in range(3):
            n = self._serial.get(w.key, 0)
            self._serial[w.key] = n + 1
            cid = make_client_order_id("sentinel", w.symbol, f"{w.account}|{lv.opened_at.isoformat()}|{lv.stop}|{n}",
                                       "protect")
            order = broker.protect(w.symbol, qty if w.qty > 0 else -qty, protection, cid, self._clock())
            if order.status is OrderStatus.REJECTED:
                raise BrokerError(f"refused: {order.reject_reason}")
            if not order.status.terminal:
                self.placed += 1
                log.info("%s %s: broker-side stop placed at %s (%s)", w.account, w.symbol, lv.stop, cid)
                return
            # An older order under this id is already done (cancelled by an exit that was later refused): next id.
        raise BrokerError("every protective client id tried was already used by a finished order")

    def _clear(self, key: tuple[str, str]) -> None:
        self.unprotected.pop(key, None)
        self._alerted.discard(key)

    def _raise_alerts(self, positions: Sequence[Watched], problems: list[str]) -> None:
        from tradebot.alerts.events import PositionUnprotected

        now = self._mono()
        by_key: dict[tuple[str, str], Watched] = {w.key: w for w in positions}
        for key, since in list(self.unprotected.items()):
            w = by_key.get(key)
            if w is None:
                self._clear(key)
                continue
            if now - since >= self.alert_after and key not in self._alerted:
                self._alerted.add(key)
                detail = "; ".join(p for p in problems if p.startswith(f"{w.account} {w.symbol}:"))
                self._alert(PositionUnprotected(symbol=w.symbol, account=w.account, unprotected_seconds=now - since,
                                                stop_price=w.levels.stop, detail=detail))
