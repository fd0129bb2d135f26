"""AlpacaOrderStream through alpaca-py's TradingStream against FakeAlpacaTradingServer's trade_updates socket."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.adapters.alpaca_stream import AlpacaOrderStream
from tradebot.domain import OrderEvent, OrderIntent, OrderStatus, OrderType, Side, Symbol, make_client_order_id
from tradebot.errors import BrokerError

KEY, SECRET = "AKSTREAMKEY01", "stream-canary-secret-42"
NOW = datetime(2024, 7, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as server:
        server.set_price("AAPL", "190")
        yield server


def _intent(leg: str, **kw) -> OrderIntent:
    return OrderIntent(make_client_order_id("s", "AAPL", "c1", leg), "s", Symbol("AAPL"), Side.BUY, Decimal("10"),
                       NOW, **kw)


async def _wait_listening(fake, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while fake.listening() == 0:
        assert time.monotonic() < end, "the stream never started listening"
        await asyncio.sleep(0.02)


def _collect(fake, act, until, *, key: str = KEY, secret: str = SECRET, deadline: float = 10.0):
    """Open the stream, run act() in a thread once listening, and gather events until until(events)."""
    stream = AlpacaOrderStream(key, secret, fake.stream_url, stop_timeout=2.0)
    events: list[OrderEvent] = []

    async def consume() -> None:
        agen = stream.order_events()
        try:
            async for event in agen:
                events.append(event)
                if until(events):
                    return
        finally:
            await agen.aclose()

    async def main() -> None:
        consumer = asyncio.create_task(consume())
        waiter = asyncio.create_task(_wait_listening(fake))
        done, _ = await asyncio.wait({consumer, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if consumer in done:
            waiter.cancel()
            consumer.result()
            return
        await asyncio.to_thread(act)
        await asyncio.wait_for(consumer, deadline)

    asyncio.run(main())
    return events


def _broker(fake) -> AlpacaBroker:
    return AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0)


def test_a_market_order_streams_submitted_then_filled_with_its_fill(fake):
    intent = _intent("m")
    events = _collect(fake, lambda: _broker(fake).submit_order(intent, NOW),
                      lambda ev: any(e.status is OrderStatus.FILLED for e in ev))
    assert [e.status for e in events] == [OrderStatus.SUBMITTED, OrderStatus.FILLED]
    new, fill_event = events
    assert new.client_order_id == fill_event.client_order_id == intent.client_order_id
    assert new.broker_order_id == fill_event.broker_order_id and new.fill is None
    fill = fill_event.fill
    assert fill is not None and (fill.qty, fill.price, fill.side) == (Decimal("10"), Decimal("190"), Side.BUY)
    assert fill.ts.tzinfo is not None and new.event_id != fill_event.event_id
    # The same execution read back over REST carries the same fill id, so the ledger records it once.
    (rest_fill,) = _broker(fake).fills_since(None)
    assert rest_fill.fill_id == fill.fill_id


def test_partial_fills_stream_one_event_per_execution(fake):
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60, fill_chunks=3) as chunky:
        chunky.set_price("AAPL", "190")
        events = _collect(chunky, lambda: _broker(chunky).submit_order(_intent("p"), NOW),
                          lambda ev: any(e.status is OrderStatus.FILLED for e in ev))
    fills = [e.fill for e in events if e.fill is not None]
    assert [e.status for e in events[1:]] == [OrderStatus.PARTIALLY_FILLED] * 2 + [OrderStatus.FILLED]
    assert sum(f.qty for f in fills) == Decimal("10") and len({f.fill_id for f in fills}) == 3


def test_a_redelivered_update_carries_the_same_event_id_and_reordering_is_survivable(fake):
    fake.inject_stream("reorder")
    fake.inject_stream("duplicate")

    def act() -> None:
        _broker(fake).submit_order(_intent("d"), NOW)

    events = _collect(fake, act, lambda ev: len(ev) >= 3)
    assert fake.faults_injected["duplicate"] == 1 and fake.faults_injected["reorder"] == 1
    # The "new" update was held back and the fill sent twice ahead of it.
    assert [e.status for e in events] == [OrderStatus.FILLED, OrderStatus.FILLED, OrderStatus.SUBMITTED]
    assert events[0].event_id == events[1].event_id and events[0].fill == events[1].fill
    assert len({e.event_id for e in events}) == 2


def test_cancels_and_bracket_legs_stream_with_their_statuses(fake):
    broker = _broker(fake)
    resting = _intent("rest", order_type=OrderType.LIMIT, limit_price=Decimal("150"))

    def act() -> None:
        broker.submit_order(resting, NOW)
        broker.cancel_order(resting.client_order_id, NOW)

    events = _collect(fake, act, lambda ev: any(e.status is OrderStatus.CANCELED for e in ev))
    assert [e.status for e in events] == [OrderStatus.SUBMITTED, OrderStatus.CANCELED]


def test_a_refused_key_ends_the_stream_with_a_clear_error_that_hides_the_secret(fake):
    with pytest.raises(BrokerError, match="refused the API key") as err:
        _collect(fake, lambda: None, lambda ev: True, secret="wrong-" + SECRET)
    assert SECRET not in str(err.value)


def test_the_stream_reconnects_after_the_socket_drops_and_keeps_delivering(fake):
    intent = _intent("after-drop")

    def act() -> None:
        fake.drop_stream_connections()
        deadline = time.monotonic() + 10
        while fake.listening() > 0:  # the old socket goes away first
            assert time.monotonic() < deadline
            time.sleep(0.02)
        while fake.listening() == 0:  # then alpaca-py reconnects and listens again
            assert time.monotonic() < deadline, "no reconnect"
            time.sleep(0.02)
        _broker(fake).submit_order(intent, NOW)

    events = _collect(fake, act, lambda ev: any(e.status is OrderStatus.FILLED for e in ev))
    assert {e.client_order_id for e in events} == {intent.client_order_id}


def _update(event: str, status: str, **extra) -> dict:
    order = {"id": "9f0c1d2e-0000-4000-8000-000000000001", "client_order_id": "tb-x", "symbol": "BTC/USD",
             "asset_class": "crypto", "side": "sell", "status": status, "updated_at": "2024-07-01T14:00:01.5Z"}
    return {"event": event, "order": order, "timestamp": "2024-07-01T14:00:01.123456789Z", **extra}


@pytest.mark.parametrize(("event", "order_status", "expected"), [
    ("new", "new", OrderStatus.SUBMITTED), ("accepted", "accepted", OrderStatus.SUBMITTED),
    ("pending_new", "pending_new", OrderStatus.SUBMITTED), ("canceled", "canceled", OrderStatus.CANCELED),
    ("expired", "expired", OrderStatus.EXPIRED), ("rejected", "rejected", OrderStatus.REJECTED),
    ("replaced", "replaced", OrderStatus.CANCELED), ("done_for_day", "done_for_day", OrderStatus.SUBMITTED),
    ("pending_cancel", "pending_cancel", OrderStatus.SUBMITTED),
    ("order_cancel_rejected", "filled", OrderStatus.FILLED),
])
def test_each_trade_update_event_maps_to_our_status(event, order_status, expected):
    from tradebot.adapters.alpaca_orders import trade_update_event

    mapped = trade_update_event(_update(event, order_status))
    assert mapped.status is expected and mapped.fill is None and mapped.ts.tzinfo is not None


def test_an_update_without_an_execution_id_gets_the_same_event_id_each_time_it_is_delivered():
    from tradebot.adapters.alpaca_orders import trade_update_event

    payload = _update("partial_fill", "partially_filled", qty="0.5", price="61000.25")
    first, again = trade_update_event(payload), trade_update_event(dict(payload))
    assert first.event_id == again.event_id and first.fill == again.fill
    assert first.fill.symbol == "BTC/USD" and first.fill.qty == Decimal("0.5")
    assert first.fill.price == Decimal("61000.25") and first.status is OrderStatus.PARTIALLY_FILLED
    other = trade_update_event(_update("fill", "filled", qty="0.5", price="61000.25"))
    assert other.event_id != first.event_id
