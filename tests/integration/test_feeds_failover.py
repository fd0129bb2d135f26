"""FailoverPriceFeed over real Alpaca and Binance adapters, each against its fake, and cross-source news dedupe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import faults
from tests.fakes.alpaca_rest import CRYPTO_BARS, NEWS, FakeAlpacaServer, minute_bars, news_item
from tests.fakes.binance_rest import KLINES, FakeBinanceServer, klines
from tests.fakes.newsapi import FakeNewsAPIServer, article
from tradebot.adapters.alpaca_data import AlpacaNewsFeed, AlpacaPriceFeed
from tradebot.adapters.binance_data import BinancePriceFeed
from tradebot.adapters.dedupe import dedupe_news
from tradebot.adapters.failover import FailoverPriceFeed, FeedSwitch
from tradebot.adapters.http import ALPACA_RATE, BINANCE_RATE, newsapi_rate
from tradebot.adapters.newsapi_feed import NewsAPIFeed
from tradebot.errors import DataError

T0 = datetime(2024, 7, 1, 13, 30, tzinfo=UTC)


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fakes():
    alpaca = FakeAlpacaServer({"AAPL": minute_bars(T0, 30, 190.0)}, {"BTC/USD": minute_bars(T0, 20, 61_000.0)})
    binance = FakeBinanceServer({"BTCUSDT": klines(T0, 30, 61_010.0)})
    with alpaca, binance:
        yield alpaca, binance


def _failover(fakes, clock: Clock) -> FailoverPriceFeed:
    alpaca, binance = fakes
    # No cache: these tests ask the same window again and must see the provider each time.
    primary = AlpacaPriceFeed(alpaca.base_url, "k", "s", clock, politeness=faults.quick_politeness(
        ALPACA_RATE, attempts=2, cache=False))
    backup = BinancePriceFeed(binance.base_url, clock, politeness=faults.quick_politeness(
        BINANCE_RATE, cache=False))
    return FailoverPriceFeed(primary, backup, clock, max_lag=timedelta(minutes=3),
                             retry_primary_after=timedelta(minutes=5))


def test_alpaca_500s_switch_crypto_to_binance_and_record_the_switch(fakes):
    alpaca, binance = fakes
    clock = Clock(T0 + timedelta(minutes=20))
    feed = _failover(fakes, clock)
    alpaca.faults.add(CRYPTO_BARS, faults.status(500), times=2)
    bars = feed.request_bars(["AAPL", "BTC/USD"], T0, clock.now)
    assert bars.groupby("symbol").size().to_dict() == {"AAPL": 20, "BTC/USD": 20}
    assert bars.loc[bars["symbol"] == "BTC/USD", "open"].iloc[0] == 61_010.0  # Binance's price
    [switch] = feed.switches
    assert isinstance(switch, FeedSwitch) and switch.kind == "feed_switch"
    assert (switch.from_feed, switch.to_feed, switch.reason) == ("alpaca", "binance", "error")
    assert "status 500" in switch.detail and switch.symbols == ("BTC/USD",) and switch.at == clock.now
    assert feed.active == "binance" and len(binance.requests) == 1


def test_a_lagging_alpaca_switches_to_binance_with_reason_lag(fakes):
    clock = Clock(T0 + timedelta(minutes=30))  # Alpaca's crypto stops at minute 19: 11 minutes stale
    feed = _failover(fakes, clock)
    bars = feed.request_bars(["BTC/USD"], T0, clock.now)
    assert len(bars) == 30 and [s.reason for s in feed.switches] == ["lag"]
    assert "BTC/USD newest" in feed.switches[0].detail


def test_a_historical_window_is_not_judged_for_lag(fakes):
    clock = Clock(T0 + timedelta(days=3))
    feed = _failover(fakes, clock)
    assert len(feed.request_bars(["BTC/USD"], T0, T0 + timedelta(minutes=20))) == 20
    assert feed.switches == []


def test_after_the_hold_a_healthy_alpaca_takes_over_again_and_that_is_recorded(fakes):
    alpaca, _ = fakes
    clock = Clock(T0 + timedelta(minutes=20))
    feed = _failover(fakes, clock)
    alpaca.faults.add(CRYPTO_BARS, faults.status(503), times=2)
    feed.request_bars(["BTC/USD"], T0, clock.now)
    tried = len(alpaca.requests)
    clock.now += timedelta(minutes=1)
    feed.request_bars(["BTC/USD"], T0, T0 + timedelta(minutes=20))
    assert len(alpaca.requests) == tried  # on hold: Alpaca not asked
    clock.now += timedelta(minutes=5)
    bars = feed.request_bars(["BTC/USD"], T0, T0 + timedelta(minutes=20))
    assert len(bars) == 20 and feed.active == "alpaca"
    assert [(s.to_feed, s.reason) for s in feed.switches] == [("binance", "error"), ("alpaca", "recovered")]


def test_when_both_feeds_fail_the_error_names_both(fakes):
    alpaca, binance = fakes
    clock = Clock(T0 + timedelta(minutes=20))
    alpaca.faults.add(CRYPTO_BARS, faults.status(500), times=2)
    binance.faults.add(KLINES, faults.status(500), times=3)
    with pytest.raises(DataError, match=r"no crypto feed answered: alpaca: .*500.*; binance: .*500"):
        _failover(fakes, clock).request_bars(["BTC/USD"], T0, clock.now)


def test_news_from_newsapi_and_alpaca_is_deduplicated_by_url_and_title():
    at = T0 + timedelta(minutes=5)
    alpaca = FakeAlpacaServer(news=[
        news_item(1, "Apple beats estimates", ["AAPL"], at, "https://www.reuters.com/apple-beats?utm_source=bz"),
        news_item(2, "Tesla recalls cars", ["TSLA"], at + timedelta(minutes=2), "https://benzinga.example/t1"),
        news_item(3, "Nvidia rallies", ["NVDA"], at, "https://benzinga.example/n1")])
    newsapi = FakeNewsAPIServer([
        article("Apple beats estimates - Reuters", at + timedelta(minutes=1), "https://reuters.com/apple-beats/"),
        article("Tesla Recalls Cars!", at, "https://cnbc.example/tesla", "TSLA down"),
        article("Microsoft ships update", at, "https://ms.example/u")], api_key="nk")
    with alpaca, newsapi:
        clock = Clock(T0 + timedelta(hours=1))
        a = AlpacaNewsFeed(alpaca.base_url, "k", "s", clock, politeness=faults.quick_politeness(ALPACA_RATE))
        n = NewsAPIFeed(newsapi.base_url, "nk", clock, politeness=faults.quick_politeness(newsapi_rate(1e5)))
        symbols = ["AAPL", "TSLA", "NVDA", "MSFT"]
        merged = dedupe_news([*a.request_news(symbols, T0, clock.now), *n.request_news(symbols, T0, clock.now)])
    assert sorted((x.source, x.headline) for x in merged) == [
        ("alpaca", "Apple beats estimates"), ("alpaca", "Nvidia rallies"), ("newsapi", "Microsoft ships update"),
        ("newsapi", "Tesla Recalls Cars!")]  # the earlier-published copy of each story is kept
    assert all(x.ingested_at == clock.now for x in merged)
    assert [r.path for r in alpaca.requests] == [NEWS]
