"""Exactly-once submission: commit the intent, gate on market hours, send, and look up before every retry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tradebot.adapters.ports import Broker
from tradebot.domain import AssetClass, Order, OrderIntent, OrderStatus
from tradebot.errors import BrokerError, BrokerUnavailable, DuplicateClientOrderId
from tradebot.execution.config import ExecutionConfig
from tradebot.execution.market_hours import asset_class_of, closed_reason
from tradebot.execution.throttle import throttle_for
from tradebot.store import orders

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]


def submit_intent(sessions: sessionmaker[Session], run_id: str, broker: Broker, intent: OrderIntent, now: datetime,
                  *, config: ExecutionConfig | None = None, enforce_hours: bool | None = None,
                  sleep: Sleep = time.sleep) -> Order:
    """Send intent to broker exactly once and return the order as recorded in the ledger.

    The intent row (status `submitting`) and the full submission are committed before any network call.
    An unknown outcome (timeout, 5xx, dropped connection) is followed by a lookup by client order id
    before any retry; a duplicate-id answer is confirmed by lookup. When the outcome is still unknown
    after config.submit_attempts, BrokerUnavailable is raised and the intent stays `submitting` for
    recover_submitting. enforce_hours switches the market-hours gate; by default it applies to every
    broker but the built-in paper broker, which fills at the next bar's open (so an order sent while the
    exchange is closed is an order for the next open, as in a replay's simulated day).
    """
    cfg = config or ExecutionConfig()
    start = orders.write(sessions, lambda s: orders.begin_submission(s, run_id, broker.name, intent, now))
    if start.order is not None:
        return start.order
    known: dict[str, AssetClass] | None = {intent.symbol: AssetClass(start.asset_class)} if start.asset_class else None
    gate = (closed_reason(intent, asset_class_of(intent.symbol, known), now, cfg.extended_hours)
            if _gated(broker, enforce_hours) else "")
    return _resolve(sessions, run_id, broker, intent, now, cfg, sleep, lookup_first=start.resumed, gate=gate,
                    may_submit=True)


def recover_submitting(sessions: sessionmaker[Session], run_id: str, broker: Broker, now: datetime,
                       *, config: ExecutionConfig | None = None, enforce_hours: bool | None = None,
                       sleep: Sleep = time.sleep) -> list[Order]:
    """Resolve intents left `submitting` at broker (a crash or an unknown outcome) by lookup; return resolved orders.

    Found at the broker: recorded. Not found: sent now if younger than config.resubmit_within_minutes,
    else abandoned (recorded as expired with the reason). Still unknown: left for the next recovery.
    """
    cfg = config or ExecutionConfig()
    with sessions() as s:
        pending = orders.submitting(s, run_id, broker.name)
    resolved: list[Order] = []
    gated = _gated(broker, enforce_hours)
    for intent, created in pending:
        fresh = now - created <= timedelta(minutes=cfg.resubmit_within_minutes)
        gate = closed_reason(intent, asset_class_of(intent.symbol), now, cfg.extended_hours) if gated else ""
        try:
            resolved.append(_resolve(sessions, run_id, broker, intent, now, cfg, sleep, lookup_first=True,
                                     gate=gate, may_submit=fresh))
        except BrokerUnavailable as exc:
            log.warning("order %s still unknown at %s after recovery: %s", intent.client_order_id, broker.name, exc)
    return resolved


def _gated(broker: Broker, enforce_hours: bool | None) -> bool:
    return broker.name != "paper" if enforce_hours is None else enforce_hours


def _resolve(sessions: sessionmaker[Session], run_id: str, broker: Broker, intent: OrderIntent, now: datetime,
             cfg: ExecutionConfig, sleep: Sleep, *, lookup_first: bool, gate: str, may_submit: bool) -> Order:
    cid = intent.client_order_id
    throttle = throttle_for(broker.name, cfg.orders_per_second)
    # Attempt counters are written with the outcome (one commit per order): they are for diagnosis only.
    tally = _Tally()
    for attempt in range(1, cfg.submit_attempts + 1):
        if attempt > 1:
            sleep(cfg.backoff(attempt - 1))
        if lookup_first:
            throttle.acquire()
            tally.lookups += 1
            try:
                found = broker.get_order(cid)
            except BrokerUnavailable as exc:
                tally.error = f"lookup: {exc}"
                continue
            if found is not None:
                return _record(sessions, run_id, broker, found, now, tally)
            if not may_submit:
                why = (f"never reached {broker.name}: left submitting by a crash and older than "
                       f"execution.resubmit_within_minutes={cfg.resubmit_within_minutes:g}, so not sent again")
                return _record(sessions, run_id, broker, _local(intent, now, OrderStatus.EXPIRED, why), now, tally,
                               orders.SUB_ABANDONED)
        if gate:
            # Refused before any submission: recorded as a rejection with the reason, like a broker's.
            return _record(sessions, run_id, broker, _local(intent, now, OrderStatus.REJECTED, gate), now, tally,
                           orders.SUB_REFUSED)
        lookup_first = True
        throttle.acquire()
        tally.attempts += 1
        try:
            order = broker.submit_order(intent, now)
        except DuplicateClientOrderId as exc:
            # "Already there": the earlier attempt reached the broker; the lookup at the top confirms it.
            tally.error = f"duplicate client order id: {exc}"
            continue
        except BrokerUnavailable as exc:
            tally.error = str(exc)
            log.info("order %s outcome unknown at %s (attempt %d): %s", cid, broker.name, attempt, exc)
            continue
        except BrokerError as exc:
            # A definite refusal that came as an error (MarketClosed included): keep the broker's words.
            return _record(sessions, run_id, broker, _local(intent, now, OrderStatus.REJECTED, str(exc)), now, tally)
        return _record(sessions, run_id, broker, order, now, tally)
    orders.write(sessions, lambda s: orders.note_attempt(s, cid, now, attempts=tally.attempts, lookups=tally.lookups,
                                                         error=tally.error))
    raise BrokerUnavailable(f"order {cid} at {broker.name}: outcome still unknown after {cfg.submit_attempts} "
                            f"attempts ({tally.error}); it stays submitting until recover_submitting resolves it")


@dataclass
class _Tally:
    attempts: int = 0
    lookups: int = 0
    error: str = ""


def _record(sessions: sessionmaker[Session], run_id: str, broker: Broker, order: Order, now: datetime, tally: _Tally,
            state: str = orders.SUB_RESOLVED) -> Order:
    def record(s: Session) -> Order:
        orders.note_attempt(s, order.client_order_id, now, attempts=tally.attempts, lookups=tally.lookups,
                            error=tally.error)
        orders.record_outcome(s, run_id, broker.name, order, now, state)
        return orders.find_order(s, order.client_order_id) or order

    return orders.write(sessions, record)


def _local(intent: OrderIntent, now: datetime, status: OrderStatus, reason: str) -> Order:
    return Order(client_order_id=intent.client_order_id, symbol=intent.symbol, side=intent.side, qty=intent.qty,
                 order_type=intent.order_type, status=status, submitted_at=now, limit_price=intent.limit_price,
                 reject_reason=reason, stop_price=intent.stop_price, updated_at=now)
