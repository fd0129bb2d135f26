"""News de-duplication across sources by normalized URL and title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tradebot.adapters.dedupe import dedupe_news, normalize_title, normalize_url
from tradebot.domain import NewsItem, Symbol, make_news_id

T0 = datetime(2024, 7, 1, 12, tzinfo=UTC)


def _item(source: str, title: str, url: str, minutes: int, symbols=("AAPL",), ingested: int = 60) -> NewsItem:
    return NewsItem(make_news_id(source, url, title), source, title, "", url, tuple(Symbol(s) for s in symbols),
                    T0 + timedelta(minutes=minutes), T0 + timedelta(minutes=ingested))


def test_urls_differing_only_in_scheme_www_tracking_and_slash_normalize_alike():
    a = normalize_url("https://www.Reuters.com/markets/apple-beats/?utm_source=bz&utm_medium=x#top")
    b = normalize_url("http://reuters.com/markets/apple-beats")
    assert a == b == "reuters.com/markets/apple-beats"
    assert normalize_url("https://x.com/a?id=1") != normalize_url("https://x.com/a?id=2")
    assert normalize_url("") == ""


def test_titles_fold_case_punctuation_accents_and_a_publisher_suffix():
    assert normalize_title("Apple Beats Estimates! - Reuters") == normalize_title("apple beats estimates")
    assert normalize_title("Café rally — Yahoo Finance") == "cafe rally"
    assert normalize_title("Apple Q3 - iPhone sales up") != normalize_title("Apple Q3 - iPad sales down")


def test_the_earliest_copy_is_kept_with_its_own_times_and_the_union_of_symbols():
    alpaca = _item("alpaca", "Apple and Microsoft rally", "https://bz.example/1", 5, ("AAPL",), ingested=6)
    newsapi = _item("newsapi", "Apple and Microsoft rally - CNBC", "https://cnbc.example/2", 7, ("MSFT",), 30)
    [kept] = dedupe_news([newsapi, alpaca])
    assert kept.source == "alpaca" and kept.symbols == ("AAPL", "MSFT")
    assert kept.published_at == alpaca.published_at and kept.ingested_at == alpaca.ingested_at


def test_same_url_different_title_is_one_story():
    a = _item("alpaca", "Apple beats", "https://r.example/a?utm_campaign=z", 1)
    b = _item("newsapi", "Apple tops forecasts", "https://www.r.example/a/", 2)
    assert [n.headline for n in dedupe_news([a, b])] == ["Apple beats"]


def test_an_item_that_bridges_two_groups_merges_them():
    a = _item("alpaca", "Story one", "https://a.example/1", 1)
    b = _item("newsapi", "Story two", "https://b.example/2", 2)
    bridge = _item("newsapi", "Story two", "https://a.example/1", 3)
    assert [n.headline for n in dedupe_news([a, b, bridge])] == ["Story one"]


def test_items_without_urls_are_matched_by_title_only():
    a = _item("alpaca", "Tesla recalls", "", 1)
    b = _item("alpaca", "Nvidia rallies", "", 2)
    assert len(dedupe_news([a, b])) == 2


titles = st.sampled_from(["Apple beats", "Apple beats - Reuters", "Tesla recalls", "Nvidia rallies", "Oil slips"])
urls = st.sampled_from(["", "https://a.example/1", "https://www.a.example/1/", "https://b.example/2"])


@given(st.lists(st.tuples(titles, urls, st.integers(0, 100), st.sampled_from(["alpaca", "newsapi"])), max_size=12))
def test_dedupe_is_idempotent_and_leaves_no_shared_keys(rows):
    items = [_item(src, t, u, m) for t, u, m, src in rows]
    once = dedupe_news(items)
    assert dedupe_news(once) == once
    url_keys = [normalize_url(n.url) for n in once if normalize_url(n.url)]
    title_keys = [normalize_title(n.headline) for n in once]
    assert len(set(url_keys)) == len(url_keys) and len(set(title_keys)) == len(title_keys)
    assert all(n.published_at == min(i.published_at for i in items if i.id == n.id) for n in once)
