"""NewsAPIFeed: real newsapi-python (through our URL-rewriting session) against FakeNewsAPIServer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import faults
from tests.fakes.newsapi import EVERYTHING, TOP_HEADLINES, FakeNewsAPIServer, article
from tradebot.adapters.http import newsapi_rate
from tradebot.adapters.newsapi_feed import MAX_QUERY, NewsAPIFeed
from tradebot.domain import make_news_id
from tradebot.errors import DataError

T0 = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
KEY = "news-key"


@pytest.fixture
def fake():
    stories = [article(f"Apple supplier update {i} - Reuters", T0 + timedelta(minutes=i), f"https://r.example/a{i}",
                       "Apple Inc. shares moved.") for i in range(130)]
    stories += [article("Tesla recalls cars", T0 + timedelta(minutes=5), "https://r.example/t", "TSLA fell."),
                article("Bitcoin hits a record", T0 + timedelta(minutes=6), "https://r.example/b", "Crypto rally."),
                article("Weather is nice", T0 + timedelta(minutes=7), "https://r.example/w", "Apples grow.")]
    heads = [article("Microsoft and Apple lead the market", T0, "https://r.example/h1", "Big tech up."),
             article("Oil slips", T0, "https://r.example/h2", "Crude down.")]
    with FakeNewsAPIServer(stories, heads, api_key=KEY, max_results=100) as server:
        yield server


def _feed(fake, key: str = KEY, **kw) -> NewsAPIFeed:
    return NewsAPIFeed(fake.base_url, key, lambda: T0 + timedelta(hours=3),
                       politeness=faults.quick_politeness(newsapi_rate(100_000), **kw))


def test_everything_maps_articles_to_symbols_by_ticker_and_company_name(fake):
    items = _feed(fake).request_news(["TSLA", "BTC/USD"], T0, T0 + timedelta(hours=1))
    by_title = {n.headline: n for n in items}
    assert set(by_title) == {"Tesla recalls cars", "Bitcoin hits a record"}
    assert by_title["Bitcoin hits a record"].symbols == ("BTC/USD",)
    tesla = by_title["Tesla recalls cars"]
    assert tesla.id == make_news_id("newsapi", "https://r.example/t", "Tesla recalls cars")
    assert tesla.published_at == T0 + timedelta(minutes=5) and tesla.ingested_at == T0 + timedelta(hours=3)
    request = fake.requests[0]
    assert request.path == EVERYTHING and request.headers["authorization"] == KEY
    assert "Tesla" in request.query["q"] and "Bitcoin" in request.query["q"]
    assert request.query["from"] == "2024-07-01T12:00:00" and request.query["to"] == "2024-07-01T12:59:59"


def test_company_names_match_whole_words_only(fake):
    items = _feed(fake).request_news(["AAPL"], T0, T0 + timedelta(hours=3))
    assert all("Weather" not in n.headline for n in items)  # "Apples" is not Apple


def test_pages_stop_quietly_at_the_developer_plans_result_limit(fake):
    items = _feed(fake).request_news(["AAPL"], T0, T0 + timedelta(hours=3))
    pages = [r.query["page"] for r in fake.requests]
    assert len(items) == 100 and pages == ["1", "2"]  # page 2 is answered 426 maximumResultsReached


def test_long_symbol_lists_are_split_into_queries_under_500_characters(fake):
    feed = _feed(fake, cache=False)
    symbols = [f"SYM{i:03d}" for i in range(120)]
    queries = feed.queries(symbols)
    assert len(queries) > 1 and all(len(q) <= MAX_QUERY for q in queries)
    feed.request_news(symbols, T0, T0 + timedelta(hours=1))
    assert len(fake.requests) == len(queries)


def test_top_headlines_are_filtered_to_symbols(fake):
    items = _feed(fake).request_headlines(["MSFT"])
    assert [n.headline for n in items] == ["Microsoft and Apple lead the market"]
    assert fake.requests[0].path == TOP_HEADLINES and fake.requests[0].query["category"] == "business"


def test_a_bad_key_raises_a_data_error_with_the_code_but_not_the_key(fake):
    with pytest.raises(DataError, match=r"newsapi: GET /v2/everything failed with status 401: apiKeyInvalid") as err:
        _feed(fake, key="wrong-key-123").request_news(["AAPL"], T0, T0 + timedelta(hours=1))
    assert "wrong-key-123" not in str(err.value)


def test_a_429_with_retry_after_then_success(fake):
    fake.faults.add(EVERYTHING, faults.rate_limited("1"))
    items = _feed(fake).request_news(["TSLA"], T0, T0 + timedelta(hours=1))
    first, second = fake.requests
    assert len(items) == 1 and second.at - first.at >= 0.95


def test_a_500_and_a_timeout_are_retried(fake):
    fake.faults.add(EVERYTHING, faults.status(500))
    fake.faults.add(EVERYTHING, faults.timeout(1.5))
    items = _feed(fake, timeout=0.3).request_news(["TSLA"], T0, T0 + timedelta(hours=1))
    assert len(items) == 1 and len(fake.requests) == 3


@pytest.mark.parametrize("fault", [faults.malformed(), faults.truncated()], ids=["malformed", "truncated"])
def test_malformed_or_truncated_json_raises_a_data_error(fake, fault):
    fake.faults.add(EVERYTHING, fault)
    with pytest.raises(DataError, match="newsapi: GET /v2/everything returned malformed JSON"):
        _feed(fake).request_news(["TSLA"], T0, T0 + timedelta(hours=1))


def test_an_empty_page_gives_no_items(fake):
    fake.faults.add(EVERYTHING, faults.empty())
    assert _feed(fake).request_news(["TSLA"], T0, T0 + timedelta(hours=1)) == []


def test_future_publication_times_come_through(fake):
    fake.faults.add(EVERYTHING, faults.skew(86_400))
    items = _feed(fake).request_news(["TSLA"], T0, T0 + timedelta(hours=1))
    assert items[0].published_at == T0 + timedelta(days=1, minutes=5)
