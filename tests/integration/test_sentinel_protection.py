"""The sentinel's safety net: a bare position is alerted when its broker-side stop cannot be placed; a dead feed too."""

from __future__ import annotations

import asyncio

from tests.fakes.alpaca_rest import FakeAlpacaServer
from tests.fakes.alpaca_stream import FakeAlpacaStreamServer
from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tests.integration.sentinel_support import ACCOUNT, levels, open_position, until
from tests.integration.test_sentinel_disconnect import (
    DATA_KEY,
    DATA_SECRET,
    KEY,
    SECRET,
    SYM,
    _rest_trade,
    _sentinel,
    running,
)
from tradebot.adapters.alpaca_broker import AlpacaBroker


async def _scenario(sessions) -> None:
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as fake, \
            FakeAlpacaStreamServer(DATA_KEY, DATA_SECRET, max_lifetime=60) as stream, \
            FakeAlpacaServer(latest_trades={SYM: _rest_trade(60_000.0)}) as rest:
        fake.set_price(SYM, "60000")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0, sleep=lambda s: None)
        await asyncio.to_thread(open_position, sessions, broker, SYM, "0.5", levels(SYM, "60000", 500.0, tp=None))
        fake.inject("error_before", times=10_000)  # every new order now fails with a 5xx
        stream.refuse = True  # and the market-data stream is down
        events: list = []
        sentinel = _sentinel(sessions, broker, stream, rest, events)
        async with running(sentinel):
            await until(lambda: any(e.kind == "position_unprotected" for e in events), what="unprotected alert")
            await until(lambda: any(e.kind == "feed_stale" for e in events), what="stale feed alert")
            polls = sentinel.rest_polls
            await until(lambda: sentinel.rest_polls > polls + 1, what="REST polling while the feed is down")
        [alert] = [e for e in events if e.kind == "position_unprotected"]
        assert (alert.symbol, alert.account) == (SYM, ACCOUNT) and alert.unprotected_seconds >= 0.3
        assert "protective order not placed" in alert.detail and alert.severity.value == "critical"
        [stale] = [e for e in events if e.kind == "feed_stale"]
        assert stale.feed == "sentinel:alpaca-crypto"
        assert broker.open_orders() == [] and len(broker.positions()) == 1  # nothing half-placed, nothing sold
        assert sentinel.outcomes == []


def test_a_position_whose_stop_cannot_be_placed_raises_an_unprotected_alert_and_a_dead_feed_a_stale_one(sessions):
    asyncio.run(asyncio.wait_for(_scenario(sessions), 45))
