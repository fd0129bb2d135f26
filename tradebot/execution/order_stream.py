"""Follow a broker's order stream: each pushed update reaches the ledger at once, de-duplicated by event id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tradebot.adapters.ports import OrderEventStream
from tradebot.domain import OrderEvent
from tradebot.execution.events import apply_order_events

log = logging.getLogger(__name__)


@dataclass
class StreamTally:
    """What following a stream has done so far."""

    applied: int = 0
    duplicates: int = 0
    stale: int = 0
    new_fills: int = 0
    unknown: int = 0


async def follow_order_events(stream: OrderEventStream, sessions: sessionmaker[Session], run_id: str, broker: str,
                              on_unknown: Callable[[OrderEvent], None] | None = None,
                              clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                              tally: StreamTally | None = None) -> StreamTally:
    """Apply every event stream pushes until it ends or the task is cancelled; return the tally.

    The ledger write runs in a worker thread so a shared event loop (the sentinel's tick loop) never waits
    on the database. Polling (sync_broker, reconcile) stays the safety net for anything the stream misses.
    """
    tally = tally or StreamTally()
    async for event in stream.order_events():
        done = await asyncio.to_thread(apply_order_events, sessions, run_id, broker, [event], clock())
        tally.applied += done.applied
        tally.duplicates += done.duplicates
        tally.stale += done.stale
        tally.new_fills += done.new_fills
        for unknown in done.unknown:
            tally.unknown += 1
            log.warning("%s event %s (%s) for order %s the ledger does not know", broker, unknown.event_id,
                        unknown.status.value, unknown.client_order_id)
            if on_unknown is not None:
                on_unknown(unknown)
    return tally
