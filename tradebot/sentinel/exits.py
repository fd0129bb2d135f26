"""The exit for a hit: take down the broker-side protection, send the exit through the exactly-once path, tell."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradebot.adapters.ports import Broker
from tradebot.domain import ZERO, Order, OrderIntent, OrderStatus, OrderType, Side, TimeInForce
from tradebot.errors import BrokerError, BrokerUnavailable
from tradebot.execution.market_hours import guess_asset_class
from tradebot.execution.protection import cancel_protection, protective_for
from tradebot.execution.submitter import submit_intent
from tradebot.sentinel.health import Backoff
from tradebot.sentinel.levels import Hit, Watched
from tradebot.sentinel.positions import SENTINEL, exit_attempt, exit_client_order_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExitOutcome:
    """What became of one hit: the exit order (None when the broker-side stop had already closed it)."""

    hit: Hit
    order: Order | None
    qty: Decimal
    note: str = ""


def exit_side(qty: Decimal) -> Side:
    """Return the side that closes a signed holding."""
    return Side.SELL if qty > 0 else Side.BUY


def protective_orders(orders: list[Order] | tuple[Order, ...], position: Watched,
                      exclude: frozenset[str] = frozenset()) -> list[Order]:
    """Return the working orders that protect position: its symbol, the closing side, a stop or target type."""
    return protective_for(orders, position.symbol, exit_side(position.qty), exclude)


class ExitPath:
    """Callable the engine dispatches hits to; the blocking broker work runs on its own small thread pool."""

    def __init__(self, sessions: sessionmaker[Session], broker_for: Callable[[Watched], Broker],
                 notify: Callable[[ExitOutcome], None], *, workers: int = 4, attempts: int = 3,
                 backoff: Backoff | None = None, enforce_hours: bool = True,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), sleep: Callable[[float], None] = time.sleep,
                 on_done: Callable[[ExitOutcome], None] | None = None) -> None:
        self._sessions, self._broker_for, self._notify = sessions, broker_for, notify
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sentinel-exit")
        self._attempts, self._backoff = attempts, backoff or Backoff(base=0.5, cap=5.0)
        self._enforce_hours, self._clock, self._sleep = enforce_hours, clock, sleep
        self._on_done = on_done
        self.sent = 0
        self.closed_by_broker = 0

    def __call__(self, hit: Hit) -> asyncio.Future[Any]:
        """Start the exit for hit on the pool now; return its future."""
        return asyncio.get_running_loop().run_in_executor(self._pool, self.exit_now, hit)

    def close(self) -> None:
        """Let exits in flight finish, then release the threads."""
        self._pool.shutdown(wait=True)

    def exit_now(self, hit: Hit) -> ExitOutcome:
        """Cancel the position's protective orders, then close what the broker still holds, exactly once."""
        pos = hit.position
        broker = self._broker_for(pos)
        with self._sessions() as s:
            attempt, _ = exit_attempt(s, pos.account, pos.levels)
        cid = exit_client_order_id(pos.account, pos.levels, attempt)
        last: Exception | None = None
        for n in range(1, self._attempts + 1):
            if n > 1:
                self._sleep(self._backoff.delay(n - 1))
            try:
                outcome = self._attempt(hit, broker, cid)
            except BrokerUnavailable as exc:
                # Unknown outcome: the same client id next time, so the broker de-duplicates a second send.
                last = exc
                log.warning("exit %s for %s %s: outcome unknown (%s), attempt %d", cid, pos.account, pos.symbol,
                            exc, n)
                continue
            self._notify(outcome)
            if self._on_done is not None:
                self._on_done(outcome)
            if outcome.order is not None and outcome.order.status is OrderStatus.REJECTED:
                raise BrokerError(f"exit {cid} for {pos.symbol} rejected: {outcome.order.reject_reason}")
            return outcome
        raise BrokerUnavailable(f"exit {cid} for {pos.account} {pos.symbol}: outcome unknown after "
                                f"{self._attempts} attempts ({last})")

    def _attempt(self, hit: Hit, broker: Broker, cid: str) -> ExitOutcome:
        pos, now = hit.position, self._clock()
        # Alpaca holds the quantity of a working stop: the protection must go before the exit can be placed.
        cancel_protection(broker, pos.symbol, exit_side(pos.qty), now, exclude=frozenset({cid}))
        held = next((p.qty for p in broker.positions() if p.symbol == pos.symbol), ZERO)
        known = broker.get_order(cid)  # type: ignore[arg-type]
        if known is None and (held == ZERO or (held > 0) != (pos.qty > 0)):
            self.closed_by_broker += 1
            return ExitOutcome(hit, None, ZERO, "the broker-side stop closed the position first")
        qty = min(abs(pos.qty), abs(held)) if held != ZERO else abs(pos.qty)
        crypto = guess_asset_class(pos.symbol).value == "crypto"
        intent = OrderIntent(client_order_id=cid, strategy=SENTINEL, symbol=pos.symbol,  # type: ignore[arg-type]
                             side=exit_side(pos.qty), qty=qty, ts=now, order_type=OrderType.MARKET,
                             time_in_force=TimeInForce.GTC if crypto else TimeInForce.DAY,
                             reference_price=Decimal(repr(hit.price)), reason=hit.reason)
        order = submit_intent(self._sessions, pos.account, broker, intent, now, enforce_hours=self._enforce_hours)
        if order.status is not OrderStatus.REJECTED:
            self.sent += 1
        return ExitOutcome(hit, order, qty)

