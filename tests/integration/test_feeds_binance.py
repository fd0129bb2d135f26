"""BinancePriceFeed: real python-binance Client against FakeBinanceServer on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.fakes import faults
from tests.fakes.binance_rest import KLINES, FakeBinanceServer, klines
from tradebot.adapters.binance_data import BinancePriceFeed
from tradebot.adapters.http import BINANCE_RATE, RateLimit
from tradebot.domain import BAR_COLUMNS
from tradebot.errors import DataError

T0 = datetime(2024, 7, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    server = FakeBinanceServer({"BTCUSDT": klines(T0, 2500, 61_000.0), "ETHUSDT": klines(T0, 30, 3_400.0)},
                               server_time_ms=int(T0.timestamp() * 1000))
    with server:
        yield server


def _feed(fake, **kw) -> BinancePriceFeed:
    return BinancePriceFeed(fake.base_url, lambda: T0, api_key="binance-key-abc",
                            politeness=faults.quick_politeness(BINANCE_RATE, **kw))


def test_klines_become_bar_columns_under_our_pair_names(fake):
    bars = _feed(fake).request_bars(["BTC/USD", "ETH/USD"], T0, T0 + timedelta(minutes=30))
    assert tuple(bars.columns) == BAR_COLUMNS
    assert bars.groupby("symbol").size().to_dict() == {"BTC/USD": 30, "ETH/USD": 30}
    assert bars["ts"].min() == pd.Timestamp(T0) and str(bars["ts"].dt.tz) == "UTC"
    assert bars["close"].dtype == "float64" and (bars["timeframe"] == "1Min").all()
    assert {r.query["symbol"] for r in fake.requests if r.path == KLINES} == {"BTCUSDT", "ETHUSDT"}
    assert fake.requests[0].headers["x-mbx-apikey"] == "binance-key-abc"


def test_a_long_window_pages_through_klines_a_thousand_at_a_time(fake):
    bars = _feed(fake).request_bars(["BTC/USD"], T0, T0 + timedelta(minutes=2500))
    pages = [r for r in fake.requests if r.path == KLINES]
    assert len(bars) == 2500 and bars["ts"].is_unique and len(pages) == 3
    assert int(pages[1].query["startTime"]) == int((T0 + timedelta(minutes=1000)).timestamp() * 1000)


def test_end_is_exclusive(fake):
    bars = _feed(fake).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    assert bars["ts"].max() == pd.Timestamp(T0 + timedelta(minutes=4))


def test_an_unknown_pair_raises_a_data_error_naming_it(fake):
    with pytest.raises(DataError, match="binance does not know symbol DOGE/USD"):
        _feed(fake).request_bars(["DOGE/USD"], T0, T0 + timedelta(minutes=5))


def test_a_stock_symbol_is_refused_without_a_request(fake):
    with pytest.raises(DataError, match="binance does not list AAPL"):
        _feed(fake).request_bars(["AAPL"], T0, T0 + timedelta(minutes=5))
    assert fake.requests == []


def test_a_429_with_retry_after_then_success(fake):
    fake.faults.add(KLINES, faults.rate_limited("1"))
    bars = _feed(fake).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    first, second = fake.requests
    assert len(bars) == 5 and second.at - first.at >= 0.95


def test_a_500_and_a_timeout_are_retried(fake):
    fake.faults.add(KLINES, faults.status(503))
    fake.faults.add(KLINES, faults.timeout(1.5))
    bars = _feed(fake, timeout=0.3, attempts=3).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    assert len(bars) == 5 and len(fake.requests) == 3


@pytest.mark.parametrize("fault", [faults.malformed(), faults.truncated()], ids=["malformed", "truncated"])
def test_malformed_or_truncated_json_raises_a_data_error(fake, fault):
    fake.faults.add(KLINES, fault)
    with pytest.raises(DataError, match="binance: GET /api/v3/klines returned malformed JSON"):
        _feed(fake).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))


def test_exhausted_retries_name_the_endpoint_and_status_but_not_the_key(fake):
    fake.faults.add(KLINES, faults.status(500), times=3)
    with pytest.raises(DataError, match=r"binance: GET /api/v3/klines failed with status 500") as err:
        _feed(fake).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    assert "binance-key-abc" not in str(err.value)


def test_an_empty_page_gives_an_empty_frame(fake):
    fake.faults.add(KLINES, faults.empty())
    bars = _feed(fake).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    assert bars.empty and tuple(bars.columns) == BAR_COLUMNS


def test_skewed_kline_times_come_through(fake):
    fake.faults.add(KLINES, faults.skew(7200))
    bars = _feed(fake).request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    assert bars["ts"].min() == pd.Timestamp(T0 + timedelta(hours=2))


def test_ping_time_and_exchange_info_answer(fake):
    feed = _feed(fake)
    assert feed.ping() is True
    assert feed.server_time() == T0
    assert feed.listed() == {"BTCUSDT", "ETHUSDT"}


def test_the_bucket_counts_binance_request_weight(fake):
    # A 200-weight burst that refills only 1 per minute, so the count is not blurred by refill.
    feed = BinancePriceFeed(fake.base_url, lambda: T0, politeness=faults.quick_politeness(
        RateLimit("binance", 1, 200)))
    feed.listed()
    feed.request_bars(["ETH/USD"], T0, T0 + timedelta(minutes=5))
    assert feed.politeness.bucket.available() == pytest.approx(200 - 20 - 2, abs=0.1)  # exchangeInfo 20, klines 2
