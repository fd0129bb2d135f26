"""The sentinel's Alpaca feed through the real alpaca-py stream client against FakeAlpacaStreamServer (msgpack)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from decimal import Decimal

import msgpack

from tests.fakes.alpaca_stream import CRYPTO_PATH, STOCK_PATH, FakeAlpacaStreamServer, pack, trade
from tests.integration.sentinel_support import levels, until
from tradebot.domain import Symbol
from tradebot.sentinel.engine import SentinelEngine
from tradebot.sentinel.feeds import AlpacaTradeFeed
from tradebot.sentinel.health import Backoff
from tradebot.sentinel.levels import Hit, LevelBook, Watched

KEY, SECRET = "AKSTREAMKEY", "stream-secret-canary-42"
FAST = Backoff(0.05, 0.2)


def _book(*symbols: str) -> LevelBook:
    """Long 10 of each at 100: stop 96, trail 6 below the high, target 108."""
    book = LevelBook()
    book.replace_all(Watched("acct", Symbol(s), Decimal(10), levels(s, "100", 2.0)) for s in symbols)
    return book


class Recorder:
    """An exit dispatch that records hits; delay makes it slow (on a worker thread, like the real path)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.hits: list[tuple[Hit, float]] = []
        self.delay = delay

    def __call__(self, hit: Hit) -> asyncio.Future:
        self.hits.append((hit, time.monotonic()))
        return asyncio.get_running_loop().run_in_executor(None, time.sleep, self.delay)


def _feed(srv: FakeAlpacaStreamServer, on_trade: Callable, *, crypto: bool = False, secret: str = SECRET,
          name: str = "alpaca") -> AlpacaTradeFeed:
    return AlpacaTradeFeed(name, crypto, srv.url + (CRYPTO_PATH if crypto else STOCK_PATH), KEY, secret, on_trade,
                           FAST)


async def _publish(srv: FakeAlpacaStreamServer, *msgs: dict, path: str = STOCK_PATH) -> None:
    await asyncio.to_thread(srv.publish, list(msgs), path)


def run(coro) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))


def test_a_trade_through_the_stop_dispatches_one_exit_with_its_level_and_reason():
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            rec = Recorder()
            engine = SentinelEngine(_book("AAPL"), rec)
            feed = _feed(srv, engine.on_trade)
            await feed.set_symbols({"AAPL"})
            await until(lambda: srv.subscribed() == {"AAPL"}, what="subscription")
            await _publish(srv, trade("AAPL", 99.0), trade("AAPL", 97.0), trade("AAPL", 95.5), trade("AAPL", 95.0))
            await until(lambda: engine.ticks == 4, what="4 ticks")
            await engine.drain()
            [(hit, _)] = rec.hits
            assert (hit.leg, hit.level, hit.price) == ("stop_loss", Decimal("96"), 95.5)
            assert "last 95.5 <= stop 96" in hit.reason and hit.ts.tzinfo is not None
            await feed.close()
            await until(lambda: srv.authenticated() == 0, what="the server to see the close")

    run(scenario())


def test_new_highs_ratchet_the_trailing_stop_and_a_dip_below_it_exits():
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            rec, book = Recorder(), _book("BTC/USD")
            engine = SentinelEngine(book, rec)
            feed = _feed(srv, engine.on_trade, crypto=True)
            await feed.set_symbols({"BTC/USD"})
            await until(lambda: srv.subscribed(CRYPTO_PATH) == {"BTC/USD"}, what="subscription")
            await _publish(srv, *(trade("BTC/USD", p) for p in (101.0, 103.0, 105.0, 104.0)), path=CRYPTO_PATH)
            await until(lambda: engine.ticks == 4, what="ticks")
            p = book.get("acct", "BTC/USD")
            assert p.levels.stop == Decimal("99") and p.levels.trail_anchor == Decimal("105")  # 105 - 3 x 2
            assert ("acct", "BTC/USD") in book.dirty and rec.hits == []
            await _publish(srv, trade("BTC/USD", 98.9), path=CRYPTO_PATH)
            await until(lambda: len(rec.hits) == 1, what="trailing exit")
            assert rec.hits[0][0].leg == "trailing_stop" and rec.hits[0][0].level == Decimal("99")
            await feed.close()

    run(scenario())


def test_a_refused_login_is_retried_with_backoff_and_never_shows_the_secret(caplog):
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            engine = SentinelEngine(_book("AAPL"), Recorder())
            feed = _feed(srv, engine.on_trade, secret="wrong-secret-canary-99")
            with caplog.at_level(logging.INFO):
                await feed.set_symbols({"AAPL"})
                await until(lambda: srv.auth_failures >= 3, what="three login attempts")
            assert not feed.status.connected and feed.status.connects == 0
            assert "auth failed" in feed.status.last_error
            assert "wrong-secret-canary-99" not in caplog.text + feed.status.last_error
            assert srv.authenticated() == 0 and engine.ticks == 0
            await feed.close()

    run(scenario())


def test_malformed_messages_are_skipped_logged_and_counted_without_dropping_the_connection(caplog):
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            rec = Recorder()
            engine = SentinelEngine(_book("AAPL"), rec)
            feed = _feed(srv, engine.on_trade)
            await feed.set_symbols({"AAPL"})
            await until(lambda: srv.subscribed() == {"AAPL"}, what="subscription")
            with caplog.at_level(logging.WARNING):
                await asyncio.to_thread(srv.send_raw, b"\xc1 not msgpack")
                await asyncio.to_thread(srv.send_raw, msgpack.packb({"T": "t", "S": "AAPL"}))  # not an array
                bad_price = {**trade("AAPL", 1.0), "p": "95.0"}
                no_price = {k: v for k, v in trade("AAPL", 1.0).items() if k != "p"}
                await asyncio.to_thread(srv.send_raw, pack([bad_price, no_price, trade("AAPL", 95.0)]))
                await until(lambda: engine.ticks == 1, what="the good trade")
            assert feed.status.malformed == 4
            assert caplog.text.count("skipped a malformed message") == 4
            assert feed.status.connects == 1 and feed.status.connected  # the connection survived
            await engine.drain()
            assert [h.price for h, _ in rec.hits] == [95.0]
            await feed.close()

    run(scenario())


def test_subscriptions_follow_the_symbol_set_on_one_connection():
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            seen: list[str] = []
            feed = _feed(srv, lambda sym, price, ts, fn: seen.append(sym))
            await feed.set_symbols({"AAPL"})
            await until(lambda: srv.subscribed() == {"AAPL"}, what="AAPL")
            await feed.set_symbols({"AAPL", "MSFT"})
            await until(lambda: srv.subscribed() == {"AAPL", "MSFT"}, what="MSFT added")
            await feed.set_symbols({"MSFT"})
            await until(lambda: srv.subscribed() == {"MSFT"}, what="AAPL removed")
            await _publish(srv, trade("AAPL", 1.0), trade("MSFT", 2.0))
            await until(lambda: seen == ["MSFT"], what="MSFT only")
            assert srv.connections == 1 and srv.limit_refusals == 0
            await feed.set_symbols(set())  # no position left: no connection held
            await until(lambda: srv.authenticated() == 0, what="disconnect")
            await feed.set_symbols({"NVDA"})
            await until(lambda: srv.subscribed() == {"NVDA"}, what="NVDA on a new connection")
            assert srv.connections == 2 and srv.authenticated() == 1
            await feed.close()

    run(scenario())


def test_a_second_connection_on_one_key_is_refused_with_406_like_alpaca():
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            first, second = _feed(srv, lambda *a: None, name="first"), _feed(srv, lambda *a: None, name="second")
            await first.set_symbols({"AAPL"})
            await until(lambda: first.status.connected, what="first")
            await second.set_symbols({"MSFT"})
            await until(lambda: srv.limit_refusals >= 1, what="406")
            assert "connection limit exceeded" in second.status.last_error and not second.status.connected
            assert first.status.connected and srv.authenticated() == 1
            await second.close()
            await first.close()

    run(scenario())


def test_a_slow_exit_path_neither_stalls_ticks_nor_delays_other_symbols_exits():
    async def scenario():
        with FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=30) as srv:
            rec = Recorder(delay=1.5)  # each exit takes 1.5 s at the broker
            engine = SentinelEngine(_book("AAPL", "MSFT"), rec)
            feed = _feed(srv, engine.on_trade)
            await feed.set_symbols({"AAPL", "MSFT"})
            await until(lambda: srv.subscribed() == {"AAPL", "MSFT"}, what="subscription")
            await _publish(srv, trade("AAPL", 95.0))
            await until(lambda: len(rec.hits) == 1, what="first exit")
            burst = [trade("AAPL", 94.0 - i * 0.001) for i in range(2000)] + [trade("MSFT", 95.0)]
            await _publish(srv, *burst)
            await until(lambda: len(rec.hits) == 2, timeout=1.0, what="second exit while the first is in flight")
            assert rec.hits[1][1] - rec.hits[0][1] < 1.0 and engine.in_flight == 2
            await until(lambda: engine.ticks == 2002, what="every tick of the burst")
            assert [h.position.symbol for h, _ in rec.hits] == ["AAPL", "MSFT"]  # AAPL exits once, not 2001 times
            await engine.drain()
            await feed.close()

    run(scenario())
