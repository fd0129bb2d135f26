"""Alpaca market data (stock + crypto bars, latest trades/quotes) and news through alpaca-py."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.historical.news import NewsClient
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestQuoteRequest,
    CryptoLatestTradeRequest,
    NewsRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from tradebot.adapters.http import ALPACA_RATE, Politeness, bars_frame, parse_ts
from tradebot.domain import NewsItem, Symbol, make_news_id
from tradebot.errors import ConfigError, DataError

# Alpaca treats `end` as inclusive; the ports promise ts < end.
_JUST_BEFORE = timedelta(microseconds=1)
_TIMEFRAME = re.compile(r"^(\d+)(Min|Hour|Day|Week|Month)$")
_INVALID_SYMBOL = re.compile(r"invalid symbols?:?\s*([A-Za-z0-9./,-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LatestTrade:
    """The last trade Alpaca reports for a symbol."""

    symbol: Symbol
    ts: datetime
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class LatestQuote:
    """The last NBBO (stocks) or top of book (crypto) Alpaca reports for a symbol."""

    symbol: Symbol
    ts: datetime
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal


def alpaca_timeframe(timeframe: str) -> TimeFrame:
    """Map '1Min', '5Min', '1Hour', '1Day' ... to alpaca-py's TimeFrame."""
    m = _TIMEFRAME.match(timeframe)
    if not m:
        raise DataError(f"alpaca: timeframe {timeframe!r} is not like '1Min', '15Min', '1Hour' or '1Day'")
    return TimeFrame(int(m.group(1)), TimeFrameUnit(m.group(2)))


def is_crypto(symbol: str) -> bool:
    """Return True for pairs like BTC/USD (Alpaca's crypto spelling)."""
    return "/" in symbol


@contextmanager
def alpaca_errors(endpoint: str) -> Iterator[None]:
    """Translate alpaca-py and JSON failures into DataError naming the endpoint and status."""
    try:
        yield
    except APIError as exc:
        status = exc.status_code
        message = _api_message(exc)
        if (m := _INVALID_SYMBOL.search(message)) is not None:
            raise DataError(f"alpaca does not know symbol {m.group(1)} ({endpoint}, status {status})") from None
        raise DataError(f"alpaca: GET {endpoint} failed with status {status}: {message[:200]}") from None
    except ValueError as exc:  # JSON decode errors and alpaca-py's "does not match any known keys"
        raise DataError(f"alpaca: GET {endpoint} returned malformed JSON ({type(exc).__name__})") from None


def _api_message(exc: APIError) -> str:
    try:
        return str(exc.message)
    except (ValueError, KeyError, TypeError):
        return str(exc)[:200]


class _AlpacaClients:
    """Builds alpaca-py clients lazily, one set per thread, all behind one Politeness."""

    def __init__(self, base_url: str, api_key: str, secret_key: str, politeness: Politeness) -> None:
        if not api_key or not secret_key:
            raise ConfigError("alpaca: api_key and secret_key are both required for market data and news")
        self._base_url = base_url.rstrip("/")
        self._key, self._secret = api_key, secret_key
        self.politeness = politeness
        self._local = threading.local()

    def _wire(self, client):
        # Our session does the retrying (with Retry-After); alpaca-py's own loop would add blind 3 s sleeps.
        client._session.close()
        client._session = self.politeness.session()
        client._retry = 0
        return client

    @property
    def stock(self) -> StockHistoricalDataClient:
        if (c := getattr(self._local, "stock", None)) is None:
            c = self._local.stock = self._wire(StockHistoricalDataClient(
                self._key, self._secret, raw_data=True, url_override=self._base_url))
        return c

    @property
    def crypto(self) -> CryptoHistoricalDataClient:
        if (c := getattr(self._local, "crypto", None)) is None:
            c = self._local.crypto = self._wire(CryptoHistoricalDataClient(
                self._key, self._secret, raw_data=True, url_override=self._base_url))
        return c

    @property
    def news(self) -> NewsClient:
        if (c := getattr(self._local, "news", None)) is None:
            c = self._local.news = self._wire(NewsClient(
                self._key, self._secret, raw_data=True, url_override=self._base_url))
        return c


class AlpacaPriceFeed:
    """PriceFeed over Alpaca's historical bars (stocks and crypto), plus latest trades and quotes."""

    name = "alpaca"

    def __init__(self, base_url: str, api_key: str, secret_key: str, clock: Callable[[], datetime], *,
                 timeframe: str = "1Min", stock_feed: str = "iex", adjustment: str = "split",
                 politeness: Politeness | None = None, symbols_per_request: int = 50, max_workers: int = 4) -> None:
        self.timeframe = timeframe
        self._tf = alpaca_timeframe(timeframe)
        self._feed = DataFeed(stock_feed)
        self._adjustment = Adjustment(adjustment)
        self.clock = clock
        self.politeness = politeness or Politeness(ALPACA_RATE)
        self._clients = _AlpacaClients(base_url, api_key, secret_key, self.politeness)
        self._chunk = max(1, symbols_per_request)
        self._workers = max(1, max_workers)

    def request_bars(self, symbols: Sequence[str], start: datetime, end: datetime) -> pd.DataFrame:
        """Return BAR_COLUMNS bars with start <= ts < end, fetched in concurrent symbol chunks."""
        stocks = sorted({s for s in symbols if not is_crypto(s)})
        crypto = sorted({s for s in symbols if is_crypto(s)})
        jobs = [(False, stocks[i: i + self._chunk]) for i in range(0, len(stocks), self._chunk)]
        jobs += [(True, crypto[i: i + self._chunk]) for i in range(0, len(crypto), self._chunk)]
        if len(jobs) <= 1:
            frames = [self._fetch(c, chunk, start, end) for c, chunk in jobs]
        else:
            # Threads only overlap network waits; the shared token bucket still caps the request rate.
            with ThreadPoolExecutor(min(self._workers, len(jobs)), thread_name_prefix="alpaca-bars") as pool:
                frames = list(pool.map(lambda job: self._fetch(job[0], job[1], start, end), jobs))
        frames = [f for f in frames if len(f)]
        if not frames:
            return bars_frame([], [], self.timeframe, [[]] * 5)
        return pd.concat(frames, ignore_index=True)

    def _fetch(self, crypto: bool, chunk: list[str], start: datetime, end: datetime) -> pd.DataFrame:
        if crypto:
            endpoint = "/v1beta3/crypto/us/bars"
            req = CryptoBarsRequest(symbol_or_symbols=chunk, timeframe=self._tf, start=start, end=end - _JUST_BEFORE)
            with alpaca_errors(endpoint):
                raw = self._clients.crypto.get_crypto_bars(req)
        else:
            endpoint = "/v2/stocks/bars"
            req = StockBarsRequest(symbol_or_symbols=chunk, timeframe=self._tf, start=start, end=end - _JUST_BEFORE,
                                   feed=self._feed, adjustment=self._adjustment)
            with alpaca_errors(endpoint):
                raw = self._clients.stock.get_stock_bars(req)
        return self._frame(raw, endpoint)

    def _frame(self, raw: dict, endpoint: str) -> pd.DataFrame:
        try:
            syms = [s for s, bars in raw.items() for _ in bars]
            rows = [b for bars in raw.values() for b in bars]
            ts = pd.to_datetime([b["t"] for b in rows], utc=True, format="ISO8601")
            cols = [[b[k] for b in rows] for k in ("o", "h", "l", "c", "v")]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DataError(f"alpaca: GET {endpoint} returned bars in an unexpected shape ({exc!r})") from None
        # Rows outside [start, end) are kept: a skewed provider clock is for the quality gate to judge.
        return bars_frame(syms, ts, self.timeframe, cols)

    def latest_trades(self, symbols: Sequence[str]) -> dict[str, LatestTrade]:
        """Return the latest trade per symbol; a symbol Alpaca does not report raises DataError."""
        raw = self._latest(symbols, "trades")
        try:
            return {s: LatestTrade(Symbol(s), parse_ts(t["t"]), Decimal(str(t["p"])), Decimal(str(t["s"])))
                    for s, t in raw.items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"alpaca: latest trades came in an unexpected shape ({exc!r})") from None

    def latest_quotes(self, symbols: Sequence[str]) -> dict[str, LatestQuote]:
        """Return the latest quote per symbol; a symbol Alpaca does not report raises DataError."""
        raw = self._latest(symbols, "quotes")
        try:
            return {s: LatestQuote(Symbol(s), parse_ts(q["t"]), Decimal(str(q["bp"])), Decimal(str(q["bs"])),
                                   Decimal(str(q["ap"])), Decimal(str(q["as"]))) for s, q in raw.items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"alpaca: latest quotes came in an unexpected shape ({exc!r})") from None

    def _latest(self, symbols: Sequence[str], kind: str) -> dict[str, dict]:
        out: dict[str, dict] = {}
        stocks = [s for s in symbols if not is_crypto(s)]
        crypto = [s for s in symbols if is_crypto(s)]
        if stocks:
            endpoint = f"/v2/stocks/{kind}/latest"
            with alpaca_errors(endpoint):
                client = self._clients.stock
                out.update(client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=stocks))
                           if kind == "trades" else
                           client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=stocks)))
        if crypto:
            endpoint = f"/v1beta3/crypto/us/latest/{kind}"
            with alpaca_errors(endpoint):
                client = self._clients.crypto
                out.update(client.get_crypto_latest_trade(CryptoLatestTradeRequest(symbol_or_symbols=crypto))
                           if kind == "trades" else
                           client.get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols=crypto)))
        if missing := [s for s in symbols if s not in out]:
            raise DataError(f"alpaca does not know symbol(s) {', '.join(missing)} (latest {kind})")
        return out


class AlpacaNewsFeed:
    """NewsFeed over Alpaca's /v1beta1/news (Benzinga), paginated by alpaca-py."""

    name = "alpaca"

    def __init__(self, base_url: str, api_key: str, secret_key: str, clock: Callable[[], datetime], *,
                 politeness: Politeness | None = None) -> None:
        self.clock = clock
        self.politeness = politeness or Politeness(ALPACA_RATE)
        self._clients = _AlpacaClients(base_url, api_key, secret_key, self.politeness)

    def request_news(self, symbols: Sequence[str], start: datetime, end: datetime) -> list[NewsItem]:
        """Return items about symbols published in [start, end), stamped with the request time."""
        if not symbols:
            return []
        ingested_at = self.clock()
        # Alpaca's news tags crypto as BTCUSD while its market data says BTC/USD.
        ours = {s.replace("/", ""): Symbol(s) for s in symbols}
        req = NewsRequest(symbols=",".join(ours), start=start, end=end - _JUST_BEFORE, sort="asc")
        with alpaca_errors("/v1beta1/news"):
            raw = self._clients.news.get_news(req)
        items: list[NewsItem] = []
        try:
            for n in raw.get("news", []):
                mentioned = tuple(ours[s] for s in n.get("symbols") or [] if s in ours)
                if not mentioned:
                    continue
                url, headline = n.get("url") or "", n["headline"]
                items.append(NewsItem(make_news_id(self.name, url, headline), self.name, headline,
                                      n.get("summary") or "", url, mentioned, parse_ts(n["created_at"]), ingested_at))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"alpaca: GET /v1beta1/news returned an article in an unexpected shape ({exc!r})") from None
        return items
