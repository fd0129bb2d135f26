"""BinanceOrderStream through python-binance's AsyncClient + BinanceSocketManager user socket (WebSocket API)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.binance_spot import FakeBinanceSpotServer
from tradebot.adapters.binance_broker import BinanceBroker
from tradebot.adapters.binance_stream import BinanceOrderStream
from tradebot.adapters.ports import OrderEventStream
from tradebot.domain import OrderEvent, OrderIntent, OrderStatus, OrderType, Side, Symbol, make_client_order_id

KEY, SECRET = "binance-stream-key", "binance-stream-canary-secret"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    with FakeBinanceSpotServer(KEY, SECRET, max_lifetime=60) as server:
        server.set_price("BTCUSDT", "50000")
        yield server


def _intent(leg: str, **kw) -> OrderIntent:
    return OrderIntent(make_client_order_id("s", "BTC/USD", "c1", leg), "s", Symbol("BTC/USD"), Side.BUY,
                       Decimal("0.01"), NOW, **kw)


def _broker(fake) -> BinanceBroker:
    return BinanceBroker(KEY, SECRET, rest_url=fake.base_url, timeout=2.0)


async def _until(cond: Callable[[], bool], what: str, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _collect(fake, act: Callable[[], object], until: Callable[[list[OrderEvent]], bool],
             stream: BinanceOrderStream | None = None, deadline: float = 15.0) -> list[OrderEvent]:
    """Open the stream, run act() in a thread once subscribed, gather events until until(events)."""
    stream = stream or BinanceOrderStream(KEY, SECRET, rest_url=fake.base_url, ws_api_url=fake.ws_api_url)
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
        await _until(lambda: fake.subscribers() > 0 or consumer.done(), "the user data subscription")
        await asyncio.to_thread(act)
        await asyncio.wait_for(consumer, deadline)

    asyncio.run(main())
    return events


def test_a_market_fill_arrives_as_new_then_trade_with_the_fill_attached(fake):
    intent = _intent("m")
    events = _collect(fake, lambda: _broker(fake).submit_order(intent, NOW), lambda ev: len(ev) >= 2)
    new, trade = events
    assert (new.status, new.fill) == (OrderStatus.SUBMITTED, None)
    assert trade.status is OrderStatus.FILLED and trade.client_order_id == intent.client_order_id
    assert trade.fill is not None and trade.fill.qty == Decimal("0.01") and trade.fill.price == Decimal("50000")
    # Commission was charged in BTC (what the buyer receives); the Fill carries it in USDT.
    assert trade.fill.commission == Decimal("0.00001") * Decimal("50000")
    assert trade.event_id == f"BTCUSDT:{trade.broker_order_id}:TRADE:1"


def test_the_stream_fill_id_matches_the_rest_fill_id(fake):
    broker = _broker(fake)
    events = _collect(fake, lambda: broker.submit_order(_intent("same"), NOW), lambda ev: len(ev) >= 2)
    [rest_fill] = broker.fills_since(None)
    assert events[1].fill is not None and events[1].fill.fill_id == rest_fill.fill_id
    assert events[1].fill.commission == rest_fill.commission and events[1].fill.ts == rest_fill.ts


def test_a_redelivered_execution_report_keeps_its_event_id(fake):
    fake.stream_fault("duplicate", times=2)
    events = _collect(fake, lambda: _broker(fake).submit_order(_intent("dup"), NOW), lambda ev: len(ev) >= 4)
    ids = [e.event_id for e in events]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert fake.fault_counts["stream_duplicate"] == 2


def test_reordered_reports_arrive_with_their_own_stable_ids(fake):
    fake.stream_fault("reorder")
    events = _collect(fake, lambda: _broker(fake).submit_order(_intent("reo"), NOW), lambda ev: len(ev) >= 2)
    assert [e.status for e in events] == [OrderStatus.FILLED, OrderStatus.SUBMITTED]
    assert events[0].event_id.endswith(":TRADE:1") and ":NEW:" in events[1].event_id


def test_a_cancel_event_names_the_original_client_order_id(fake):
    intent = _intent("cxl", order_type=OrderType.LIMIT, limit_price=Decimal("40000"))

    def act() -> None:
        broker = _broker(fake)
        broker.submit_order(intent, NOW)
        broker.cancel_order(intent.client_order_id, NOW)

    events = _collect(fake, act, lambda ev: any(e.status is OrderStatus.CANCELED for e in ev))
    canceled = events[-1]
    assert canceled.client_order_id == intent.client_order_id and ":CANCELED:" in canceled.event_id


def test_the_stream_resubscribes_after_the_connection_drops(fake):
    stream = BinanceOrderStream(KEY, SECRET, rest_url=fake.base_url, ws_api_url=fake.ws_api_url,
                                reconnect_delay=0.1)
    intent = _intent("after-drop")

    def act() -> None:
        fake.disconnect_streams()
        deadline = time.monotonic() + 20
        while stream.connects < 2:  # wait until the stream has subscribed again
            assert time.monotonic() < deadline, "the stream never resubscribed"
            time.sleep(0.02)
        _broker(fake).submit_order(intent, NOW)

    events = _collect(fake, act, lambda ev: any(e.fill for e in ev), stream=stream, deadline=30)
    assert stream.connects >= 2 and events[-1].client_order_id == intent.client_order_id


def test_a_wrong_secret_never_subscribes_and_never_leaks(fake, caplog):
    caplog.set_level(logging.DEBUG)
    stream = BinanceOrderStream(KEY, "wrong-canary-secret-1234", rest_url=fake.base_url, ws_api_url=fake.ws_api_url,
                                reconnect_delay=0.05, max_reconnect_delay=0.1)

    async def main() -> None:
        agen = stream.order_events()
        task = asyncio.ensure_future(agen.__anext__())
        await _until(lambda: sum(1 for r in caplog.records if "binance user stream" in r.getMessage()) >= 2,
                     "two refused subscriptions")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await agen.aclose()

    asyncio.run(main())
    assert fake.subscribers() == 0 and stream.connects == 0
    assert all("wrong-canary-secret-1234" not in r.getMessage() for r in caplog.records)


def test_the_testnet_switch_points_the_user_stream_at_the_testnet(fake):
    testnet: OrderEventStream = BinanceOrderStream(KEY, SECRET, testnet=True)  # mypy checks the port here
    assert isinstance(testnet, BinanceOrderStream)
    assert testnet.stream_url() == "wss://ws-api.testnet.binance.vision/ws-api/v3"
    assert BinanceOrderStream(KEY, SECRET).stream_url() == "wss://ws-api.binance.com/ws-api/v3"

    async def built_urls() -> tuple[str, str]:
        client = BinanceOrderStream(KEY, SECRET, testnet=True).client()
        try:
            return client.ws_api._url, client._create_api_uri("ping", signed=False)
        finally:
            await client.close_connection()

    ws_url, rest_url = asyncio.run(built_urls())
    assert ws_url == "wss://ws-api.testnet.binance.vision/ws-api/v3"
    assert rest_url == "https://testnet.binance.vision/api/v3/ping"


def test_the_fake_also_serves_the_legacy_listen_key_stream(fake):
    from binance.client import Client
    from websockets.asyncio.client import connect

    client = Client(KEY, SECRET, ping=False)
    client.API_URL = f"{fake.base_url}/api"
    key = client.stream_get_listen_key()
    assert client.stream_keepalive(key) == {}

    async def main() -> dict:
        async with connect(f"{fake.stream_url}ws/{key}") as ws:
            await _until(lambda: fake.subscribers() > 0, "the listenKey stream")
            await asyncio.to_thread(_broker(fake).submit_order, _intent("legacy"), NOW)
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

    report = asyncio.run(main())
    assert report["e"] == "executionReport" and report["x"] == "NEW"
    client.stream_close(key)
    assert key not in fake.listen_keys


def test_a_commission_paid_in_bnb_reaches_stream_and_rest_in_usdt():
    with FakeBinanceSpotServer(KEY, SECRET, balances={"USDT": "100000", "BNB": "10"}, fee_asset="BNB",
                               max_lifetime=60) as fake:
        fake.set_price("BTCUSDT", "50000")
        fake.set_price("BNBUSDT", "500")
        broker = _broker(fake)
        events = _collect(fake, lambda: broker.submit_order(_intent("bnb"), NOW), lambda ev: len(ev) >= 2)
        [rest_fill] = broker.fills_since(None)
    fill = events[1].fill
    assert fill is not None and fill.commission == rest_fill.commission
    assert fill.commission == Decimal("0.5")  # 0.1% of 500 USDT, paid as 0.001 BNB at 500


def test_seeded_stream_chaos_redelivers_and_reorders_but_event_ids_stay_unique_per_update(fake):
    fake.stream_chaos(seed=3, rate=0.6)
    intents = [_intent(f"sc{i}") for i in range(4)]

    def act() -> None:
        broker = _broker(fake)
        for intent in intents:
            broker.submit_order(intent, NOW)
        # A resting order's NEW report releases an update the reorder fault may still hold back.
        broker.submit_order(_intent("flush", order_type=OrderType.LIMIT, limit_price=Decimal("40000")), NOW)

    wanted = {i.client_order_id for i in intents}
    events = _collect(fake, act, lambda ev: len({e.event_id for e in ev if e.client_order_id in wanted}) >= 8)
    mine = [e for e in events if e.client_order_id in wanted]
    unique = {e.event_id: e for e in mine}
    assert len(unique) == 8 and len(mine) > 8  # some updates came twice
    assert sum(1 for e in unique.values() if e.fill is not None) == 4
    assert fake.fault_counts["stream_duplicate"] + fake.fault_counts["stream_reorder"] > 0
