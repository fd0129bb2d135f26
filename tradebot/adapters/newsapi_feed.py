"""NewsAPI.org through newsapi-python: /v2/everything and /v2/top-headlines, mapped to our symbols."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import requests
from newsapi import NewsApiClient
from newsapi.newsapi_exception import NewsAPIException

from tradebot.adapters.http import Politeness, newsapi_rate, parse_ts
from tradebot.domain import NewsItem, Symbol, make_news_id
from tradebot.errors import DataError

log = logging.getLogger(__name__)

NEWSAPI_HOST = "https://newsapi.org"
# NewsAPI rejects q longer than 500 characters.
MAX_QUERY = 500
# HTTP statuses NewsAPI documents for its error codes (the client library drops the status).
_STATUS = {"apiKeyDisabled": 401, "apiKeyExhausted": 429, "apiKeyInvalid": 401, "apiKeyMissing": 401,
           "parameterInvalid": 400, "parametersMissing": 400, "rateLimited": 429, "sourcesTooMany": 400,
           "sourceDoesNotExist": 400, "maximumResultsReached": 426, "unexpectedError": 500}

# Company names people write instead of tickers; extend through the constructor.
DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "AAPL": ("Apple",), "MSFT": ("Microsoft",), "NVDA": ("Nvidia",), "AMZN": ("Amazon",),
    "GOOGL": ("Alphabet", "Google"), "META": ("Meta Platforms", "Facebook"), "TSLA": ("Tesla",),
    "JPM": ("JPMorgan", "JP Morgan"), "XOM": ("Exxon", "ExxonMobil"), "KO": ("Coca-Cola",),
    "BTC/USD": ("Bitcoin",), "ETH/USD": ("Ethereum",),
}


def _quoted(term: str) -> str:
    return f'"{term}"' if " " in term or "-" in term else term


class NewsAPIFeed:
    """NewsFeed over NewsAPI; articles carry no tickers, so symbols come from tickers and names in the text."""

    name = "newsapi"

    def __init__(self, base_url: str, api_key: str, clock: Callable[[], datetime], *,
                 politeness: Politeness | None = None, aliases: Mapping[str, Sequence[str]] | None = None,
                 language: str = "en", page_size: int = 100, max_pages: int = 5) -> None:
        self.clock = clock
        self.politeness = politeness or Politeness(newsapi_rate())
        self.aliases = {**DEFAULT_ALIASES, **{k: tuple(v) for k, v in (aliases or {}).items()}}
        self.language = language
        self.page_size = page_size
        self.max_pages = max_pages
        # newsapi-python hard-codes https://newsapi.org; the session rewrites it to base_url.
        session = self.politeness.session(rewrite={NEWSAPI_HOST: base_url.rstrip("/")}, secret_params=("apiKey",))
        self._client = NewsApiClient(api_key=api_key, session=session)

    def terms(self, symbol: str) -> tuple[str, ...]:
        """Return the words that name symbol in text: its ticker (base asset for pairs) and company names."""
        ticker = symbol.split("/")[0]
        return (ticker, *self.aliases.get(symbol, ()))

    def queries(self, symbols: Sequence[str]) -> list[str]:
        """Return NewsAPI q strings (each under 500 characters) OR-ing every symbol's terms."""
        out, current = [], ""
        for term in dict.fromkeys(_quoted(t) for s in symbols for t in self.terms(s)):
            candidate = f"{current} OR {term}" if current else term
            if len(candidate) > MAX_QUERY and current:
                out.append(current)
                candidate = term
            current = candidate
        return [*out, current] if current else out

    def match(self, text: str, symbols: Sequence[str]) -> tuple[Symbol, ...]:
        """Return the symbols text mentions: tickers case-sensitively, names case-insensitively."""
        hits = []
        for s in symbols:
            ticker, *names = self.terms(s)
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(ticker)}(?![A-Za-z0-9])", text) or any(
                    re.search(rf"\b{re.escape(n)}\b", text, re.IGNORECASE) for n in names):
                hits.append(Symbol(s))
        return tuple(hits)

    def request_news(self, symbols: Sequence[str], start: datetime, end: datetime) -> list[NewsItem]:
        """Return articles about symbols published in [start, end) from /v2/everything."""
        if not symbols:
            return []
        ingested_at = self.clock()
        # NewsAPI's `to` is inclusive at one-second resolution.
        first = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        last = (end - timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        items: dict[str, NewsItem] = {}
        for q in self.queries(symbols):
            for page in range(1, self.max_pages + 1):
                body = self._call("/v2/everything", page, lambda p=page, q=q: self._client.get_everything(
                    q=q, from_param=first, to=last, language=self.language,
                    sort_by="publishedAt", page_size=self.page_size, page=p))
                if body is None:
                    break
                articles = body.get("articles") or []
                for item in self._items(articles, symbols, ingested_at, "/v2/everything"):
                    items.setdefault(item.id, item)
                if len(articles) < self.page_size or page * self.page_size >= int(body.get("totalResults") or 0):
                    break
        return list(items.values())

    def request_headlines(self, symbols: Sequence[str], *, country: str = "us",
                          category: str = "business") -> list[NewsItem]:
        """Return current top headlines (country, category) that mention symbols."""
        ingested_at = self.clock()
        body = self._call("/v2/top-headlines", 1, lambda: self._client.get_top_headlines(
            country=country, category=category, page_size=self.page_size)) or {}
        return self._items(body.get("articles") or [], symbols, ingested_at, "/v2/top-headlines")

    def _call(self, endpoint: str, page: int, fetch: Callable[[], dict]) -> dict | None:
        try:
            body = fetch()
        except NewsAPIException as exc:
            err = exc.get_exception() if isinstance(exc.get_exception(), dict) else {}
            code = err.get("code", "unknown")
            if code == "maximumResultsReached" and page > 1:
                # The developer plan stops at 100 results: keep what we have rather than fail the batch.
                log.warning("newsapi: %s stopped at page %d: plan result limit reached", endpoint, page)
                return None
            raise DataError(f"newsapi: GET {endpoint} failed with status {_STATUS.get(code, 'error')}: "
                            f"{code}: {str(err.get('message', ''))[:200]}") from None
        except requests.JSONDecodeError:
            raise DataError(f"newsapi: GET {endpoint} returned malformed JSON") from None
        if not isinstance(body, dict) or body.get("status") != "ok":
            raise DataError(f"newsapi: GET {endpoint} returned an unexpected body")
        return body

    def _items(self, articles: list, symbols: Sequence[str], ingested_at: datetime, endpoint: str) -> list[NewsItem]:
        out = []
        try:
            for a in articles:
                title, summary, url = a.get("title") or "", a.get("description") or "", a.get("url") or ""
                mentioned = self.match(f"{title}\n{summary}", symbols)
                if not mentioned or not title:
                    continue
                out.append(NewsItem(make_news_id(self.name, url, title), self.name, title, summary, url, mentioned,
                                    parse_ts(a["publishedAt"]), ingested_at))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"newsapi: GET {endpoint} returned an article in an unexpected shape ({exc!r})") from None
        return out
