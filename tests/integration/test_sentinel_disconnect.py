"""End to end: the stream drops while the price crosses the stop; the position is closed exactly once.

Ledger position with ATR levels -> FakeAlpacaTradingServer holding the position (real AlpacaBroker) ->
FakeAlpacaStreamServer (real alpaca-py CryptoDataStream) -> REST latest-trade fallback (real AlpacaPriceFeed).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from tests.fakes.alpaca_rest import FakeAlpacaServer
from tests.fakes.alpaca_stream import CRYPTO_PATH, FakeAlpacaStreamServer, trade
from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tests.integration.sentinel_support import ACCOUNT, FAST, levels, open_position, until
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.adapters.alpaca_data import AlpacaPriceFeed
from tradebot.sentinel.feeds import AlpacaTradeFeed
from tradebot.sentinel.health import Backoff
from tradebot.sentinel.notify import Notifier
from tradebot.sentinel.positions import exit_client_order_id
from tradebot.sentinel.runner import Sentinel
from tradebot.store.risk_state import load_stops

KEY, SECRET = "AKSENTINELTRADE", "sentinel-trade-secret"
DATA_KEY, DATA_SECRET = "AKSENTINELDATA", "sentinel-data-secret"
SYM = "BTC/USD"


def _rest_trade(price: float) -> dict:
    return {"t": "2026-11-24T10:00:00Z", "x": "V", "p": price, "s": 1, "c": ["@"], "i": 1, "z": "C"}


def _stored_stop(sessions) -> Decimal:
    with sessions() as s:
        return Decimal(load_stops(s, ACCOUNT)[SYM]["stop"])


@contextlib.asynccontextmanager
async def running(sentinel: Sentinel):
    task = asyncio.create_task(sentinel.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _sentinel(sessions, broker, stream: FakeAlpacaStreamServer, rest: FakeAlpacaServer, events: list) -> Sentinel:
    prices = AlpacaPriceFeed(rest.base_url, DATA_KEY, DATA_SECRET, lambda: None)  # type: ignore[arg-type]

    def rest_prices(symbols):
        return {s: t.price for s, t in prices.latest_trades(symbols).items()}

    def feeds(on_trade):
        return [AlpacaTradeFeed("alpaca-crypto", True, stream.url + CRYPTO_PATH, DATA_KEY, DATA_SECRET, on_trade,
                                Backoff(FAST.backoff_base_seconds, FAST.backoff_max_seconds))]

    return Sentinel(FAST, sessions, {ACCOUNT: broker}, [], rest_prices=rest_prices,
                    notifier=Notifier(events.append, emit=lambda o: None), make_feeds=feeds)


async def _scenario(sessions) -> None:
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as fake, \
            FakeAlpacaStreamServer(DATA_KEY, DATA_SECRET, max_lifetime=60) as stream, \
            FakeAlpacaServer(latest_trades={SYM: _rest_trade(60_000.0)}) as rest:
        fake.set_price(SYM, "60000")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0, sleep=lambda s: None)
        # Entry of 0.5 BTC at 60,000; trail 3 ATR = 1,500, stop 2 ATR = 1,000 below, no target.
        await asyncio.to_thread(open_position, sessions, broker, SYM, "0.5", levels(SYM, "60000", 500.0, tp=None))
        events: list = []
        sentinel = _sentinel(sessions, broker, stream, rest, events)
        async with running(sentinel):
            # 1. The guard finds the position bare at the broker and places its protective stop.
            await until(lambda: stream.subscribed(CRYPTO_PATH, "trades") == {SYM}, what="subscription")
            await until(lambda: any(o.stop_price == Decimal("59000") for o in broker.open_orders()), what="stop")
            # 2. A new high ratchets the trail to 59,500: written back, and the broker-side stop follows.
            await asyncio.to_thread(stream.publish, [trade(SYM, 60_500.0), trade(SYM, 61_000.0)], CRYPTO_PATH)
            await until(lambda: _stored_stop(sessions) == Decimal("59500"), what="write-back")
            await until(lambda: [o.stop_price for o in broker.open_orders()] == [Decimal("59500")],
                        what="broker-side stop moved up")
            # 3. The stream dies mid-fall and stays down; REST shows the price through the stop.
            stream.refuse = True
            before = sentinel.feeds[0].status.reconnects
            await asyncio.to_thread(stream.publish, [trade(SYM, 59_800.0)], CRYPTO_PATH)
            assert stream.drop(CRYPTO_PATH) == 1
            rest.latest_trades[SYM] = _rest_trade(59_400.0)
            await until(lambda: len(sentinel.outcomes) == 1, what="exit from the REST fallback")
            # 4. The stream comes back and replays prices through the stop: nothing more goes out.
            stream.refuse = False
            await until(lambda: stream.authenticated(CRYPTO_PATH) == 1, what="reconnect")
            await until(lambda: stream.subscribed(CRYPTO_PATH, "trades") == {SYM}, what="resubscribe")
            await asyncio.to_thread(stream.publish, [trade(SYM, 59_300.0), trade(SYM, 59_000.0)], CRYPTO_PATH)
            await sentinel.refresh()  # the ledger still lists the position until the next broker sync
            await asyncio.sleep(0.3)
        assert sentinel.rest_polls >= 1 and sentinel.feeds[0].status.reconnects > before
        # A restarted sentinel sees the same crossing again: still one exit.
        again = _sentinel(sessions, broker, stream, rest, events)
        async with running(again):
            await until(lambda: stream.subscribed(CRYPTO_PATH, "trades") == {SYM}, what="second subscription")
            await asyncio.to_thread(stream.publish, [trade(SYM, 58_000.0)], CRYPTO_PATH)
            await asyncio.sleep(0.3)
        assert again.outcomes == []

        cid = exit_client_order_id(ACCOUNT, levels(SYM, "60000", 500.0, tp=None))
        exits = {k: v for k, v in fake.orders_by_client_id().items() if v[0]["side"] == "sell" and
                 v[0]["type"] == "market"}
        assert list(exits) == [cid] and len(exits[cid]) == 1
        assert exits[cid][0]["qty"] == "0.5" and exits[cid][0]["status"] == "filled"
        assert broker.positions() == []
        assert broker.open_orders() == []  # the protective stop was cancelled, not left to open a short
        [outcome] = sentinel.outcomes
        assert outcome.hit.leg == "trailing_stop" and outcome.hit.level == Decimal("59500")
        assert outcome.hit.price == 59_400.0  # seen over REST while the stream was down
        assert [e.kind for e in events if e.kind == "stop_triggered"] == ["stop_triggered"]


def test_a_stream_drop_while_the_price_crosses_the_stop_closes_the_position_exactly_once(sessions):
    asyncio.run(asyncio.wait_for(_scenario(sessions), 45))


async def _broker_stop_first(sessions) -> None:
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as fake, \
            FakeAlpacaStreamServer(DATA_KEY, DATA_SECRET, max_lifetime=60) as stream, \
            FakeAlpacaServer(latest_trades={SYM: _rest_trade(60_000.0)}) as rest:
        fake.set_price(SYM, "60000")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0, sleep=lambda s: None)
        await asyncio.to_thread(open_position, sessions, broker, SYM, "0.5", levels(SYM, "60000", 500.0, tp=None))
        events: list = []
        sentinel = _sentinel(sessions, broker, stream, rest, events)
        async with running(sentinel):
            await until(lambda: any(o.stop_price == Decimal("59000") for o in broker.open_orders()), what="stop")
            stream.refuse = True
            assert stream.drop(CRYPTO_PATH) == 1
            # The venue trades through the stop first: its resting stop sells; then the sentinel sees the price.
            await asyncio.to_thread(fake.set_price, SYM, "58900")
            assert broker.positions() == []
            rest.latest_trades[SYM] = _rest_trade(58_900.0)
            await until(lambda: len(sentinel.outcomes) == 1, what="the sentinel's verdict")
        [outcome] = sentinel.outcomes
        assert outcome.order is None and "closed the position first" in outcome.note
        sells = [o for orders in fake.orders_by_client_id().values() for o in orders if o["side"] == "sell"]
        assert [o["type"] for o in sells] == ["stop"] and sells[0]["status"] == "filled"
        assert broker.positions() == [] and broker.open_orders() == []


def test_when_the_broker_side_stop_fires_first_the_sentinel_sends_no_second_exit(sessions):
    asyncio.run(asyncio.wait_for(_broker_stop_first(sessions), 45))
