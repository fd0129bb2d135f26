"""News quality gate: required fields, timestamps, URLs and duplicate stories."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradebot.domain.ids import Symbol
from tradebot.domain.news import NewsItem
from tradebot.quality import GateOutcome, validate_news
from tradebot.quality.news import RULE_NAMES, normalize_title, normalize_url

NOW = datetime(2024, 7, 1, 15, 0, tzinfo=UTC)


def item(n: int = 0, **changes: object) -> NewsItem:
    """Return a valid news item; n keeps id, URL and headline distinct."""
    base = NewsItem(
        id=f"id-{n}", source="newsapi", headline=f"Company {n} beats estimates", summary="",
        url=f"https://news.example.com/story/{n}", symbols=(Symbol("AAPL"),),
        published_at=NOW - timedelta(hours=1), ingested_at=NOW,
    )
    return dataclasses.replace(base, **changes)


def reasons(outcome: GateOutcome) -> dict[str, str]:
    return {it.id: why for it, why in outcome.quarantined}


def test_valid_items_all_pass() -> None:
    items = [item(i) for i in range(5)]
    out = validate_news(items, batch="n", now=NOW)
    assert out.success and out.good == items and out.quarantined == []
    assert out.kind == "news"
    assert {e.expectation for e in out.expectations} == set(RULE_NAMES)


def test_items_missing_required_fields_are_quarantined_with_each_missing_field() -> None:
    items = [item(1, headline="  ", url=""), item(2, source=""), item(3, published_at=None), item(4)]

    out = validate_news(items, batch="n", now=NOW)

    assert reasons(out) == {
        "id-1": "headline_present,url_present",
        "id-2": "source_present",
        "id-3": "published_at_present",
    }
    assert out.good == [items[3]]


def test_an_item_without_an_id_is_quarantined() -> None:
    out = validate_news([item(1, id="")], batch="n", now=NOW)
    assert out.quarantined[0][1] == "id_present"


def test_naive_and_future_publication_times_are_quarantined() -> None:
    items = [
        item(1, published_at=datetime(2024, 7, 1, 14, 0)),
        item(2, published_at=NOW + timedelta(seconds=1)),
        item(3, published_at=NOW),  # published exactly now is fine
    ]

    out = validate_news(items, batch="n", now=NOW)

    assert reasons(out) == {"id-1": "published_at_tz_aware", "id-2": "published_at_not_future"}


@pytest.mark.parametrize("url", [
    "ftp://news.example.com/a", "http:///no-host", "news.example.com/no-scheme", "not a url",
    "https://exa mple.com/x", "https://news.example.com:99999/bad-port", "javascript:alert(1)",
])
def test_invalid_urls_are_quarantined(url: str) -> None:
    out = validate_news([item(1, url=url)], batch="n", now=NOW)
    assert reasons(out) == {"id-1": "url_valid"}


def test_the_same_story_under_a_differently_written_url_is_a_duplicate() -> None:
    items = [
        item(1, url="https://News.Example.com/story/1"),
        item(2, url="http://news.example.com/story/1/?utm_source=x#comments"),
        item(3, url="https://news.example.com/story/3"),
    ]

    out = validate_news(items, batch="n", now=NOW)

    assert reasons(out) == {"id-2": "not_duplicate"}
    assert out.good == [items[0], items[2]]


def test_the_same_headline_with_other_case_and_punctuation_is_a_duplicate() -> None:
    items = [item(1, headline="Apple beats estimates!"), item(2, headline="  APPLE beats  estimates ")]
    assert reasons(validate_news(items, batch="n", now=NOW)) == {"id-2": "not_duplicate"}


def test_a_broken_first_copy_does_not_shadow_a_valid_later_copy() -> None:
    items = [item(1, published_at=NOW + timedelta(days=1)), item(2, url="https://news.example.com/story/1",
                                                                   headline="Company 1 beats estimates")]

    out = validate_news(items, batch="n", now=NOW)

    assert reasons(out) == {"id-1": "published_at_not_future"}
    assert out.good == [items[1]]


def test_empty_input_is_a_successful_outcome_with_zero_items() -> None:
    out = validate_news([], batch="n", now=NOW)
    assert out.success and out.good == [] and out.quarantined == []
    assert out.summary()["rows"] == 0


def test_the_news_summary_is_json_serializable() -> None:
    out = validate_news([item(1), item(1), item(2, url="bad")], batch="n-7", now=NOW)

    summary = json.loads(json.dumps(out.summary()))

    assert summary == {
        "batch": "n-7", "kind": "news", "rows": 3, "good": 1, "quarantined": 2, "success": False,
        "failed": {"url_valid": 1, "not_duplicate": 1}, "seconds": summary["seconds"],
    }


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_news([item()], batch="n", now=datetime(2024, 7, 1))


def test_url_and_title_normalization_drop_only_what_does_not_identify_a_story() -> None:
    assert normalize_url("HTTPS://WWW.Example.com:443/A/b/?q=1#f") == "www.example.com/A/b"
    assert normalize_url("http://example.com:8080/a") == "example.com:8080/a"
    assert normalize_title("Fed  holds rates — again!") == normalize_title("fed holds rates again")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(range(6)), max_size=15))
def test_exactly_the_first_copy_of_each_story_passes(picks: list[int]) -> None:
    # Copies of story k get their own id but share its URL (with noise) so only the URL ties them.
    items = [item(k, id=f"copy-{i}", url=f"https://NEWS.example.com/story/{k}/?copy={i}",
                  headline=f"copy {i}") for i, k in enumerate(picks)]

    out = validate_news(items, batch="n", now=NOW)

    first = {k: i for i, k in reversed(list(enumerate(picks)))}
    assert out.good == [items[i] for i in sorted(first.values())]
    assert all(why == "not_duplicate" for _, why in out.quarantined)
