"""Pushed order updates reach the ledger without waiting for a poll, once each, and strangers are reported."""

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.adapters.alpaca_stream import AlpacaOrderStream
from tradebot.domain import OrderIntent, OrderStatus, Side, Symbol, make_client_order_id
from tradebot.execution.order_stream import StreamTally, follow_order_events
from tradebot.execution.submitter import submit_intent
from tradebot.store.db import transaction
from tradebot.store.ledger import ensure_run
from tradebot.store.trading import FillRow, OrderRow

KEY, SECRET = "AKFOLLOW00001", "follow-secret-value"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _intent(leg: str) -> OrderIntent:
    return OrderIntent(make_client_order_id("s", "AAPL", "c1", leg), "s", Symbol("AAPL"), Side.BUY, Decimal("10"), NOW)


async def _until(check, what: str, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not await asyncio.to_thread(check):
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def test_a_streamed_fill_is_booked_once_and_an_unknown_order_is_reported(sessions):
    with transaction(sessions) as s:
        ensure_run(s, "acct", "paper", "alpaca-paper", Decimal("100000"), NOW)
    ours, stranger = _intent("ours"), _intent("placed-elsewhere")
    unknown: list[str] = []
    tally = StreamTally()

    def fills() -> list[FillRow]:
        with sessions() as s:
            return s.scalars(select(FillRow).where(FillRow.client_order_id == ours.client_order_id)).all()

    def status() -> str | None:
        with sessions() as s:
            return s.scalar(select(OrderRow.status).where(OrderRow.client_order_id == ours.client_order_id))

    with FakeAlpacaTradingServer(KEY, SECRET, cash=Decimal("100000"), max_lifetime=60) as fake:
        fake.set_price("AAPL", "190")
        fake.inject_stream("duplicate", times=3)
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=2.0)
        stream = AlpacaOrderStream(KEY, SECRET, fake.stream_url, stop_timeout=2.0)

        async def main() -> None:
            follower = asyncio.create_task(follow_order_events(
                stream, sessions, "acct", "alpaca", lambda ev: unknown.append(ev.client_order_id), tally=tally))
            await _until(lambda: fake.listening() > 0, "the stream to listen")
            await asyncio.to_thread(submit_intent, sessions, "acct", broker, ours, NOW, enforce_hours=False)
            await asyncio.to_thread(broker.submit_order, stranger, NOW)  # not through our ledger
            # No sync_broker runs here: only the stream can book the fill.
            await _until(lambda: status() == OrderStatus.FILLED.value and len(fills()) == 1, "the streamed fill")
            await _until(lambda: stranger.client_order_id in unknown, "the unknown order to be reported")
            follower.cancel()

        asyncio.run(main())
    assert len(fills()) == 1 and fills()[0].qty == Decimal("10")
    assert tally.duplicates >= 1 and tally.new_fills == 1


def test_the_sentinel_books_its_accounts_streamed_fills_while_it_runs(sessions):
    from tradebot.sentinel.config import SentinelConfig
    from tradebot.sentinel.runner import Sentinel

    with transaction(sessions) as s:
        ensure_run(s, "acct", "paper", "alpaca-paper", Decimal("100000"), NOW)
    ours = _intent("sentinel-follows")

    def booked() -> bool:
        with sessions() as s:
            return s.scalar(select(FillRow.qty).where(FillRow.client_order_id == ours.client_order_id)) is not None

    with FakeAlpacaTradingServer(KEY, SECRET, cash=Decimal("100000"), max_lifetime=60) as fake:
        fake.set_price("AAPL", "190")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=2.0)
        stream = AlpacaOrderStream(KEY, SECRET, fake.stream_url, stop_timeout=2.0)
        sentinel = Sentinel(SentinelConfig(), sessions, {"acct": broker}, [], order_streams={"acct": stream})

        async def main() -> None:
            running = asyncio.create_task(sentinel.run())
            await _until(lambda: fake.listening() > 0, "the sentinel to follow the order stream")
            await asyncio.to_thread(submit_intent, sessions, "acct", broker, ours, NOW, enforce_hours=False)
            await _until(booked, "the sentinel to book the streamed fill")
            running.cancel()

        asyncio.run(main())
    assert booked()
