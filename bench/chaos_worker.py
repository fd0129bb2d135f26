"""The chaos harness's moving parts: the order worker (a subprocess that gets killed) and the event consumer.

The worker is what a trading process does on start: resolve intents a crash left `submitting`, then send
every pending intent through tradebot.execution.submitter with the real AlpacaBroker / BinanceBroker.
Run alone: .venv/bin/python -m bench.chaos_worker --ledger URL --run RUN --alpaca URL --binance URL --now ISO
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tradebot.execution.config import ExecutionConfig

ALPACA_KEY, ALPACA_SECRET = "AKCHAOS", "chaos-alpaca-secret"  # noqa: S105 - keys of a local fake
BINANCE_KEY, BINANCE_SECRET = "chaos-binance-key", "chaos-binance-secret"  # noqa: S105 - keys of a local fake
CRYPTO = ("BTC/USD", "ETH/USD")
# Fast retries: the fakes answer in milliseconds, so the bounded attempts are what is under test, not waiting.
CHAOS_EXECUTION = ExecutionConfig(submit_attempts=4, backoff_seconds=0.02, max_backoff_seconds=0.2,
                                  orders_per_second=1000, reconcile_window_hours=72)
CLIENT_TIMEOUT = 0.5  # seconds; the fakes hold an accept_then_timeout reply for 2-3 s


def brokers(alpaca_url: str, binance_url: str) -> dict[str, Any]:
    """Return the real broker adapters pointed at the fakes, keyed by broker name."""
    from tradebot.adapters.alpaca_broker import AlpacaBroker
    from tradebot.adapters.binance_broker import BinanceBroker
    from tradebot.adapters.http import RateLimit, TokenBucket

    fast = RateLimit("chaos", 60_000, 500)
    alpaca = AlpacaBroker(ALPACA_KEY, ALPACA_SECRET, alpaca_url, timeout=(CLIENT_TIMEOUT, CLIENT_TIMEOUT),
                          order_rate=TokenBucket(fast), api_rate=TokenBucket(fast), max_retry_after=2.0)
    binance = BinanceBroker(BINANCE_KEY, BINANCE_SECRET, rest_url=binance_url, timeout=CLIENT_TIMEOUT,
                            order_rate=1000.0, symbols=CRYPTO, max_retry_after=2.0)
    return {alpaca.name: alpaca, binance.name: binance}


def venue_of(symbol: str) -> str:
    """Return which venue trades symbol here: crypto pairs on Binance, stocks on Alpaca."""
    return "binance" if "/" in symbol else "alpaca"


def work(ledger_url: str, run_id: str, alpaca_url: str, binance_url: str, now: datetime) -> Counter[str]:
    """Recover, then submit every pending intent once; return outcome counts."""
    from tradebot.errors import BrokerUnavailable
    from tradebot.execution.submitter import recover_submitting, submit_intent
    from tradebot.store import ledger
    from tradebot.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(ledger_url))
    venues = brokers(alpaca_url, binance_url)
    counts: Counter[str] = Counter()
    for broker in venues.values():
        counts["recovered"] += len(recover_submitting(sessions, run_id, broker, now, config=CHAOS_EXECUTION))
    with sessions() as s:
        pending = ledger.pending_intents(s, run_id)
    for intent in pending:
        try:
            order = submit_intent(sessions, run_id, venues[venue_of(intent.symbol)], intent, now,
                                  config=CHAOS_EXECUTION)
            counts[order.status.value] += 1
        except BrokerUnavailable:
            counts["unknown"] += 1
    # What is still unknown is resolved before this worker reports done, as a restarted one would.
    for _ in range(20):
        left = 0
        for broker in venues.values():
            recover_submitting(sessions, run_id, broker, now, config=CHAOS_EXECUTION)
            with sessions() as s:
                from tradebot.store import orders

                left += len(orders.submitting(s, run_id, broker.name))
        if not left:
            break
        time.sleep(0.2)
    return counts


class EventConsumer:
    """Both venues' order streams, through the real stream adapters, applied to the ledger in small batches."""

    def __init__(self, sessions: Any, run_id: str, streams: dict[str, Any], batch_seconds: float = 0.2) -> None:
        self.sessions, self.run_id, self.streams = sessions, run_id, streams
        self.batch_seconds = batch_seconds
        self.received: Counter[str] = Counter()
        self.duplicates = self.stale = self.unknown = 0
        self.last_event = time.monotonic()
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def __enter__(self) -> EventConsumer:
        self._threads = [threading.Thread(target=self._run_streams, daemon=True),
                         threading.Thread(target=self._run_applier, daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(self._loop)])
        for t in self._threads:
            t.join(10)

    def _run_streams(self) -> None:
        async def pump(name: str, stream: Any) -> None:
            while not self._stop.is_set():
                try:
                    async for event in stream.order_events():
                        self._queue.put((name, event))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a stream that ends is restarted, as a service would
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.2)

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            tasks = [asyncio.create_task(pump(n, s)) for n, s in self.streams.items()]
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks)

        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            asyncio.run(main())

    def _run_applier(self) -> None:
        from tradebot.execution.events import apply_order_events

        while not self._stop.is_set() or not self._queue.empty():
            time.sleep(self.batch_seconds)
            batch: dict[str, list[Any]] = {}
            while True:
                try:
                    name, event = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.setdefault(name, []).append(event)
            for name, events in batch.items():
                self.received[name] += len(events)
                self.last_event = time.monotonic()
                try:
                    done = apply_order_events(self.sessions, self.run_id, name, events, datetime.now(UTC))
                except Exception as exc:  # noqa: BLE001 - counted and shown: the harness fails on drift anyway
                    self.errors.append(f"apply {name}: {type(exc).__name__}: {exc}")
                    continue
                self.duplicates += done.duplicates
                self.stale += done.stale
                self.unknown += len(done.unknown)


def main(argv: list[str] | None = None) -> int:
    """Run the worker until every intent is resolved (or it is killed)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ledger", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--alpaca", required=True)
    p.add_argument("--binance", required=True)
    p.add_argument("--now", required=True, type=datetime.fromisoformat)
    args = p.parse_args(argv)
    logging.basicConfig(level=os.environ.get("CHAOS_LOG", "WARNING"), stream=sys.stderr)
    counts = work(args.ledger, args.run, args.alpaca, args.binance, args.now)
    print(dict(counts), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
