"""The sentinel's Binance feed through python-binance's BinanceSocketManager against FakeBinanceTradeStreamServer."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.fakes.binance_ws import FakeBinanceTradeStreamServer, binance_trade
from tests.integration.sentinel_support import until
from tests.integration.test_sentinel_alpaca_feed import FAST, Recorder, _book, run
from tradebot.sentinel.binance_feed import BinanceTradeFeed
from tradebot.sentinel.engine import SentinelEngine


def _feed(srv: FakeBinanceTradeStreamServer, on_trade) -> BinanceTradeFeed:
    return BinanceTradeFeed("binance", srv.url, on_trade, FAST)


async def _publish(srv: FakeBinanceTradeStreamServer, *trades: dict) -> None:
    await asyncio.to_thread(srv.publish, *trades)


def test_a_binance_trade_through_the_stop_exits_the_pair_it_maps_to():
    async def scenario():
        with FakeBinanceTradeStreamServer(max_lifetime=30) as srv:
            rec = Recorder()
            engine = SentinelEngine(_book("BTC/USD"), rec)
            feed = _feed(srv, engine.on_trade)
            await feed.set_symbols({"BTC/USD", "AAPL"})  # a stock is not Binance's: ignored
            await until(lambda: srv.streams() == {"btcusdt@trade"}, what="combined stream")
            assert srv.paths == ["/stream?streams=btcusdt@trade"]
            await _publish(srv, binance_trade("BTCUSDT", "99.5"), binance_trade("BTCUSDT", "95.90"))
            await until(lambda: len(rec.hits) == 1, what="exit")
            hit = rec.hits[0][0]
            assert (hit.position.symbol, hit.price, hit.level) == ("BTC/USD", 95.9, Decimal("96"))
            assert engine.ticks == 2 and feed.status.connected
            await feed.close()

    run(scenario())


def test_a_changed_pair_set_opens_the_new_stream_before_closing_the_old():
    async def scenario():
        with FakeBinanceTradeStreamServer(max_lifetime=30) as srv:
            seen: list[str] = []
            feed = _feed(srv, lambda sym, price, ts, fn: seen.append(sym))
            await feed.set_symbols({"BTC/USD"})
            await until(lambda: srv.streams() == {"btcusdt@trade"}, what="first stream")
            await feed.set_symbols({"BTC/USD", "ETH/USD"})
            await until(lambda: len(srv.clients) == 1 and srv.streams() == {"btcusdt@trade", "ethusdt@trade"},
                        what="switch to the combined stream of both")
            await _publish(srv, binance_trade("ETHUSDT", "3000"), binance_trade("BTCUSDT", "60000"))
            await until(lambda: sorted(seen) == ["BTC/USD", "ETH/USD"], what="both pairs")
            await feed.set_symbols(set())
            await until(lambda: not srv.clients, what="no stream left")
            await feed.close()

    run(scenario())


def test_malformed_binance_frames_are_counted_and_the_stream_recovers():
    async def scenario():
        with FakeBinanceTradeStreamServer(max_lifetime=30) as srv:
            seen: list[float] = []
            feed = _feed(srv, lambda sym, price, ts, fn: seen.append(price))
            await feed.set_symbols({"BTC/USD"})
            await until(lambda: feed.status.connected and srv.clients, what="stream")
            await _publish(srv, {**binance_trade("BTCUSDT", "1"), "p": "not-a-price"})  # JSON, bad field
            await until(lambda: feed.status.malformed == 1, what="bad field counted")
            await asyncio.to_thread(srv.send_raw, "{not json")
            await until(lambda: feed.status.malformed == 2, what="bad frame counted")
            # python-binance abandons its read loop on a non-JSON frame; the feed opens a fresh stream.
            await until(lambda: srv.connections >= 2 and srv.clients and feed.status.connected, what="recovery")
            await until(lambda: srv.publish(binance_trade("BTCUSDT", "61000")) and 61000.0 in seen,
                        what="trades after recovery")
            await feed.close()

    run(scenario())


def test_a_dropped_binance_connection_is_reopened_and_trades_flow_again():
    async def scenario():
        with FakeBinanceTradeStreamServer(max_lifetime=30) as srv:
            seen: list[float] = []
            feed = _feed(srv, lambda sym, price, ts, fn: seen.append(price))
            await feed.set_symbols({"BTC/USD"})
            await until(lambda: feed.status.connected and srv.clients, what="stream")
            assert await asyncio.to_thread(srv.drop) == 1
            await until(lambda: srv.connections >= 2 and srv.clients, timeout=15, what="reconnect")
            await until(lambda: srv.publish(binance_trade("BTCUSDT", "62000")) and 62000.0 in seen,
                        what="trades after reconnect")
            assert feed.status.reconnects >= 1 or feed.status.connects >= 2
            await feed.close()

    run(scenario())
