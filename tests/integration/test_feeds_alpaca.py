"""AlpacaPriceFeed and AlpacaNewsFeed: real alpaca-py against FakeAlpacaServer on 127.0.0.1."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from tests.fakes import faults
from tests.fakes.alpaca_rest import CRYPTO_BARS, NEWS, STOCK_BARS, FakeAlpacaServer, minute_bars, news_item
from tradebot.adapters.alpaca_data import AlpacaNewsFeed, AlpacaPriceFeed
from tradebot.adapters.http import ALPACA_RATE
from tradebot.domain import BAR_COLUMNS, make_news_id
from tradebot.errors import ConfigError, DataError

T0 = datetime(2024, 7, 1, 13, 30, tzinfo=UTC)
KEY, SECRET = "AKFAKEKEY123", "fake-secret-xyz"


def _trade(price: float) -> dict:
    return {"t": "2024-07-01T13:40:00.123456789Z", "x": "V", "p": price, "s": 10, "c": ["@"], "i": 7, "z": "C"}


def _quote(bid: float, ask: float) -> dict:
    return {"t": "2024-07-01T13:40:01Z", "ax": "V", "ap": ask, "as": 2, "bx": "V", "bp": bid, "bs": 3, "c": ["R"]}


@pytest.fixture
def fake():
    server = FakeAlpacaServer(
        stock_bars={"AAPL": minute_bars(T0, 10, 190.0), "MSFT": minute_bars(T0, 10, 420.0, seed=3)},
        crypto_bars={"BTC/USD": minute_bars(T0, 10, 61_000.0, seed=5)},
        latest_trades={"AAPL": _trade(190.5), "BTC/USD": _trade(61_000.25)},
        latest_quotes={"AAPL": _quote(190.4, 190.6)},
        news=[news_item(i, f"Apple story {i}", ["AAPL", "BTCUSD"] if i % 2 else ["AAPL"],
                        T0 + timedelta(minutes=i), f"https://news.example/apple-{i}") for i in range(60)],
        max_page_size=7,
    )
    with server:
        yield server


def _feed(fake, **kw) -> AlpacaPriceFeed:
    return AlpacaPriceFeed(fake.base_url, KEY, SECRET, lambda: T0 + timedelta(minutes=10),
                           politeness=faults.quick_politeness(ALPACA_RATE, **kw))


def test_stock_and_crypto_bars_arrive_as_bar_columns_with_utc_open_times_and_float_prices(fake):
    bars = _feed(fake).request_bars(["MSFT", "AAPL", "BTC/USD"], T0, T0 + timedelta(minutes=10))
    assert tuple(bars.columns) == BAR_COLUMNS
    assert len(bars) == 30 and set(bars["symbol"]) == {"AAPL", "MSFT", "BTC/USD"}
    assert str(bars["ts"].dt.tz) == "UTC" and bars["ts"].min() == pd.Timestamp(T0)
    assert all(bars[c].dtype == "float64" for c in ("open", "high", "low", "close", "volume"))
    assert (bars["timeframe"] == "1Min").all()
    first = fake.requests[0]
    assert first.headers["apca-api-key-id"] == KEY and first.headers["apca-api-secret-key"] == SECRET


def test_end_is_exclusive_even_though_alpaca_treats_it_as_inclusive(fake):
    bars = _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=5))
    assert bars["ts"].max() == pd.Timestamp(T0 + timedelta(minutes=4))


def test_pagination_by_next_page_token_collects_every_page(fake):
    bars = _feed(fake).request_bars(["AAPL", "MSFT"], T0, T0 + timedelta(minutes=10))
    pages = [r for r in fake.requests if r.path == STOCK_BARS]
    assert len(bars) == 20 and len(pages) == 3  # 7 + 7 + 6 bars
    assert [bool(r.query.get("page_token")) for r in pages] == [False, True, True]


def test_symbol_chunks_are_fetched_concurrently_and_all_arrive(fake):
    feed = AlpacaPriceFeed(fake.base_url, KEY, SECRET, lambda: T0, symbols_per_request=1, max_workers=3,
                           politeness=faults.quick_politeness(ALPACA_RATE))
    bars = feed.request_bars(["AAPL", "MSFT", "BTC/USD"], T0, T0 + timedelta(minutes=10))
    assert bars.groupby("symbol").size().to_dict() == {"AAPL": 10, "BTC/USD": 10, "MSFT": 10}


def test_an_empty_page_gives_an_empty_correctly_typed_frame(fake):
    fake.faults.add(CRYPTO_BARS, faults.empty())
    bars = _feed(fake).request_bars(["BTC/USD"], T0, T0 + timedelta(minutes=10))
    assert bars.empty and tuple(bars.columns) == BAR_COLUMNS and str(bars["ts"].dt.tz) == "UTC"


def test_an_unknown_symbol_raises_a_data_error_naming_it(fake):
    with pytest.raises(DataError, match="alpaca does not know symbol NOPE"):
        _feed(fake).request_bars(["AAPL", "NOPE"], T0, T0 + timedelta(minutes=10))


def test_a_500_then_success_returns_the_bars(fake):
    fake.faults.add(STOCK_BARS, faults.status(500))
    bars = _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))
    assert len(bars) == 3 and len([r for r in fake.requests if r.path == STOCK_BARS]) == 2


def test_a_429_with_retry_after_is_honoured_before_retrying(fake):
    fake.faults.add(STOCK_BARS, faults.rate_limited("1"))
    bars = _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))
    first, second = [r for r in fake.requests if r.path == STOCK_BARS]
    assert len(bars) == 3 and first.fault is not None and second.at - first.at >= 0.95


def test_a_timeout_then_success_returns_the_bars(fake):
    fake.faults.add(STOCK_BARS, faults.timeout(1.5))
    bars = _feed(fake, timeout=0.3).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))
    assert len(bars) == 3


@pytest.mark.parametrize("fault", [faults.malformed(), faults.truncated()], ids=["malformed", "truncated"])
def test_malformed_or_truncated_json_raises_a_data_error_naming_the_endpoint(fake, fault):
    fake.faults.add(STOCK_BARS, fault)
    with pytest.raises(DataError, match=r"alpaca: GET /v2/stocks/bars returned malformed JSON"):
        _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))


def test_persistent_500s_raise_a_data_error_with_provider_endpoint_and_status_but_no_keys(fake, caplog):
    fake.faults.add(STOCK_BARS, faults.status(500), times=3)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DataError) as err:
        _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))
    assert "alpaca" in str(err.value) and "/v2/stocks/bars" in str(err.value) and "500" in str(err.value)
    assert KEY not in str(err.value) and SECRET not in str(err.value)
    assert KEY not in caplog.text and SECRET not in caplog.text


def test_missing_keys_are_refused_at_construction_without_any_request(fake):
    with pytest.raises(ConfigError, match="api_key and secret_key"):
        AlpacaPriceFeed(fake.base_url, "", "", lambda: T0)
    assert fake.requests == []


def test_a_rejected_key_surfaces_as_a_data_error_with_status_401(fake):
    fake.faults.add(STOCK_BARS, faults.status(401))
    with pytest.raises(DataError, match="status 401"):
        _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))


def test_future_timestamps_from_a_skewed_clock_come_through_for_the_quality_gate(fake):
    fake.faults.add(STOCK_BARS, faults.skew(3600))
    bars = _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=3))
    assert len(bars) == 3 and bars["ts"].min() == pd.Timestamp(T0 + timedelta(hours=1))


def test_latest_trades_and_quotes_are_parsed_to_decimals(fake):
    feed = _feed(fake)
    trades = feed.latest_trades(["AAPL", "BTC/USD"])
    assert trades["AAPL"].price == Decimal("190.5") and trades["BTC/USD"].price == Decimal("61000.25")
    assert trades["AAPL"].ts == datetime(2024, 7, 1, 13, 40, 0, 123456, tzinfo=UTC)
    quote = feed.latest_quotes(["AAPL"])["AAPL"]
    assert (quote.bid, quote.ask, quote.bid_size) == (Decimal("190.4"), Decimal("190.6"), Decimal("3"))
    assert {r.path for r in fake.requests} >= {"/v2/stocks/trades/latest", "/v1beta3/crypto/us/latest/trades"}


def test_a_latest_trade_for_an_unknown_symbol_raises_a_data_error_naming_it(fake):
    with pytest.raises(DataError, match="NOPE"):
        _feed(fake).latest_trades(["AAPL", "NOPE"])


def test_news_pages_through_every_item_and_maps_symbols_ids_and_ingest_time(fake):
    ingested = T0 + timedelta(hours=2)
    feed = AlpacaNewsFeed(fake.base_url, KEY, SECRET, lambda: ingested,
                          politeness=faults.quick_politeness(ALPACA_RATE))
    items = feed.request_news(["AAPL", "BTC/USD"], T0, T0 + timedelta(hours=1))
    assert len(items) == 60 and len([r for r in fake.requests if r.path == NEWS]) == 2  # 50 + 10
    odd = next(n for n in items if n.headline == "Apple story 1")
    assert odd.symbols == ("AAPL", "BTC/USD") and odd.ingested_at == ingested
    assert odd.published_at == T0 + timedelta(minutes=1)
    assert odd.id == make_news_id("alpaca", "https://news.example/apple-1", "Apple story 1")
