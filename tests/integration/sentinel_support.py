"""Shared setup for the sentinel's integration tests: a ledger position with levels, fast config, polling waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from risk.stops import StopLevels, initial_levels
from risk.types import RiskPolicy
from tradebot.domain import Direction, OrderIntent, OrderStatus, Side, Symbol, TimeInForce, make_client_order_id
from tradebot.execution.submitter import submit_intent
from tradebot.sentinel.config import SentinelConfig
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.risk_state import load_stops, save_stops

ACCOUNT = "sentinel-test"
OPENED = datetime(2026, 11, 2, 15, tzinfo=UTC)
# Fast loops so a test finishes in seconds; backoff short but still exponential with jitter.
FAST = SentinelConfig(refresh_seconds=0.2, write_back_seconds=0.1, health_interval_seconds=0.05,
                      rest_poll_seconds=0.1, protect_check_seconds=0.3, stale_after_seconds=2.0,
                      unprotected_alert_seconds=0.3, backoff_base_seconds=0.05, backoff_max_seconds=0.3,
                      metrics_port=None)


def levels(symbol: str, entry: str, atr: float, qty: str = "1", trail: float | None = 3.0,
           tp: float | None = 4.0) -> StopLevels:
    """Return ATR levels as the risk engine sets them: stop 2 ATR, target tp ATR, trail trail ATR."""
    direction = Direction.LONG if Decimal(qty) > 0 else Direction.SHORT
    policy = RiskPolicy(stop_atr=2.0, take_profit_atr=tp, trail_atr=trail, max_holding_days=None)
    lv = initial_levels(Symbol(symbol), direction, Decimal(entry), atr, OPENED, policy)
    assert lv is not None
    return lv


def open_position(sessions, broker, symbol: str, qty: str, lv: StopLevels, account: str = ACCOUNT) -> None:
    """Enter through the exactly-once path, sync the fill into the ledger and store the levels, as a cycle does."""
    q = Decimal(qty)
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        ledger.ensure_run(s, account, "paper", "alpaca-paper", Decimal("100000"), OPENED)
    intent = OrderIntent(make_client_order_id("test", symbol, account, "entry"), "test", Symbol(symbol),
                         Side.BUY if q > 0 else Side.SELL, abs(q), now, time_in_force=TimeInForce.GTC)
    order = submit_intent(sessions, account, broker, intent, now, enforce_hours=False)
    assert order.status is not OrderStatus.REJECTED, order.reject_reason
    with transaction(sessions) as s:
        ledger.upsert_order(s, account, broker.name, broker.get_order(order.client_order_id), now)
        ledger.record_fills(s, account, list(broker.fills_since(None)))
        ledger.rebuild_positions(s, account, now)
        stops = load_stops(s, account)
        stops[symbol] = lv.to_dict()
        save_stops(s, account, stops, now)


async def until(pred: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll pred every 10 ms until it holds; fail naming what after timeout seconds."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
