"""The real providers composed into the runtime's price, news and earnings feeds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tradebot.adapters.dedupe import dedupe_news
from tradebot.domain import EarningsEvent, NewsItem
from tradebot.errors import ConfigError

EARNINGS_BACK, EARNINGS_AHEAD = timedelta(days=45), timedelta(days=60)


class ProviderNews:
    """News from every configured source, de-duplicated; the earnings calendar from Finnhub or a CSV."""

    name = "providers"

    def __init__(self, sources: Sequence[Any], finnhub: Any | None = None, earnings_csv: Path | None = None) -> None:
        self.sources, self._finnhub, self._csv = list(sources), finnhub, earnings_csv

    def request_news(self, symbols: Sequence[str], start: datetime, end: datetime) -> list[NewsItem]:
        """Return items from all sources published in [start, end), one per story."""
        return dedupe_news(i for src in self.sources for i in src.request_news(symbols, start, end))

    def request_earnings(self, symbols: Sequence[str], now: datetime) -> list[EarningsEvent]:
        """Return events around now; actuals of reports dated after now are withheld."""
        lo, hi = (now - EARNINGS_BACK).date(), (now + EARNINGS_AHEAD).date()
        if self._finnhub is not None:
            events = self._finnhub.request_earnings(symbols, lo, hi)
        elif self._csv is not None:
            from tradebot.adapters.files import read_earnings_csv

            events = [e for e in read_earnings_csv(self._csv, symbols=symbols) if lo <= e.date <= hi]
        else:
            return []
        return [e if e.date <= now.date() else replace(e, eps_actual=None, revenue_actual=None) for e in events]


def build_provider_feeds(settings: Any, secret: Callable[[str], str | None],
                         clock: Callable[[], datetime]) -> tuple[Any, ProviderNews]:
    """Return (prices, news) over Alpaca (stocks and crypto, Binance as crypto backup), NewsAPI and Finnhub."""
    from tradebot.adapters.alpaca_data import AlpacaNewsFeed, AlpacaPriceFeed, is_crypto
    from tradebot.adapters.binance_data import BinancePriceFeed
    from tradebot.adapters.failover import FailoverPriceFeed
    from tradebot.adapters.http import ALPACA_RATE, Politeness

    feeds, data = settings.feeds, settings.data
    key = _key(settings.alpaca.key_id, secret("alpaca_key_id"), "alpaca_key_id")
    secret_key = _key(settings.alpaca.secret_key, secret("alpaca_secret_key"), "alpaca_secret_key")
    alpaca_polite = Politeness(ALPACA_RATE)  # stock, crypto and news clients share Alpaca's 200/min
    alpaca = AlpacaPriceFeed(settings.alpaca.data_url, key, secret_key, clock, timeframe=data.timeframe,
                             stock_feed=feeds.stock_feed, politeness=alpaca_polite)
    binance = BinancePriceFeed(feeds.binance_url, clock, timeframe=data.timeframe)
    prices = FailoverPriceFeed(alpaca, binance, clock, max_lag=timedelta(minutes=feeds.failover_max_lag_minutes),
                               is_crypto=is_crypto)
    sources: list[Any] = []
    if "alpaca" in feeds.news_sources:
        sources.append(AlpacaNewsFeed(settings.alpaca.data_url, key, secret_key, clock, politeness=alpaca_polite))
    if "newsapi" in feeds.news_sources:
        from tradebot.adapters.http import newsapi_rate
        from tradebot.adapters.newsapi_feed import NewsAPIFeed

        token = _key(None, secret("newsapi_key"), "newsapi_key")
        sources.append(NewsAPIFeed(feeds.newsapi_url, token, clock,
                                   politeness=Politeness(newsapi_rate(feeds.newsapi_requests_per_day))))
    finnhub = None
    if feeds.earnings_source == "finnhub":
        from tradebot.adapters.earnings_api import FinnhubEarnings

        finnhub = FinnhubEarnings(feeds.finnhub_url, _key(None, secret("finnhub_token"), "finnhub_token"), clock)
    return prices, ProviderNews(sources, finnhub, data.earnings_path)


def _key(configured: Any, stored: str | None, name: str) -> str:
    value = configured.get_secret_value() if configured is not None else stored
    if not value:
        raise ConfigError(f"data.source alpaca needs {name}: `tradebot keys set {name}` "
                          f"(or TRADEBOT_SECRET_{name.upper()})")
    return value
