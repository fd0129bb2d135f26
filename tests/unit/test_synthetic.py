"""The built-in synthetic market: deterministic, calendar-true, realistic enough to trade against."""

import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tradebot.adapters.synthetic import DEFAULT_CRYPTO, DEFAULT_STOCKS, SyntheticMarket
from tradebot.domain import BAR_COLUMNS, EarningsHour, make_news_id

START, END = date(2024, 1, 1), date(2025, 12, 31)
PRICE_COLS = ["open", "high", "low", "close", "volume"]


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(seed=11, start=START, end=END)


@pytest.fixture(scope="module")
def bars(market: SyntheticMarket) -> pd.DataFrame:
    return market.bars()


def _log_returns(bars: pd.DataFrame) -> pd.DataFrame:
    return bars.pivot(index="ts", columns="symbol", values="close").apply(np.log).diff()


def test_the_same_seed_gives_identical_bars_news_and_earnings() -> None:
    a = SyntheticMarket(seed=5, start=date(2025, 3, 1), end=date(2025, 6, 30))
    b = SyntheticMarket(seed=5, start=date(2025, 3, 1), end=date(2025, 6, 30))
    now = datetime(2025, 7, 1, tzinfo=UTC)
    pd.testing.assert_frame_equal(a.bars(), b.bars())
    assert a.news(now) == b.news(now)
    assert a.earnings() == b.earnings()
    assert a.true_sentiment() == b.true_sentiment()


def test_different_seeds_give_different_markets() -> None:
    a = SyntheticMarket(seed=1, start=date(2025, 3, 1), end=date(2025, 4, 30)).bars()
    b = SyntheticMarket(seed=2, start=date(2025, 3, 1), end=date(2025, 4, 30)).bars()
    assert len(a) == len(b)
    assert not np.allclose(a["close"], b["close"])


def test_bars_follow_the_frame_contract(bars: pd.DataFrame) -> None:
    assert tuple(bars.columns) == BAR_COLUMNS
    assert isinstance(bars.index, pd.RangeIndex)
    assert str(bars["ts"].dt.tz) == "UTC"
    assert (bars[PRICE_COLS].dtypes == "float64").all()
    assert set(bars["timeframe"]) == {"1Day"}
    assert set(bars["symbol"]) == {i.symbol for i in DEFAULT_STOCKS + DEFAULT_CRYPTO}
    assert bars.equals(bars.sort_values(["symbol", "ts"]).reset_index(drop=True))
    # Daily bars are stamped at the session date, 00:00 UTC.
    assert (bars["ts"] == bars["ts"].dt.normalize()).all()


def test_stocks_skip_weekends_and_nyse_holidays_while_crypto_trades_every_day(bars: pd.DataFrame) -> None:
    days = bars.assign(day=bars["ts"].dt.date)
    stock_days = set(days.loc[days["symbol"] == "AAPL", "day"])
    crypto_days = set(days.loc[days["symbol"] == "BTC/USD", "day"])
    assert not any(d.weekday() >= 5 for d in stock_days)
    for holiday in (date(2025, 12, 25), date(2025, 11, 27), date(2025, 7, 4), date(2024, 3, 29)):
        assert holiday not in stock_days
        assert holiday in crypto_days
    assert date(2025, 11, 28) in stock_days  # the half day after Thanksgiving is a session
    assert len(crypto_days) == (END - START).days + 1
    assert 495 <= len(stock_days) <= 505


def test_ohlc_is_consistent_and_prices_are_positive(bars: pd.DataFrame) -> None:
    assert (bars[PRICE_COLS] > 0).all().all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert not bars[PRICE_COLS].isna().any().any()


def test_opens_sit_near_the_previous_close(bars: pd.DataFrame) -> None:
    for sym in ("AAPL", "BTC/USD"):
        one = bars[bars["symbol"] == sym]
        gap = np.abs(np.log(one["open"].to_numpy()[1:] / one["close"].to_numpy()[:-1]))
        assert np.median(gap) < 0.02


def test_starting_prices_are_realistic() -> None:
    bars = SyntheticMarket(seed=3, start=date(2025, 1, 6), end=date(2025, 1, 10)).bars()
    first = bars.groupby("symbol").first()
    assert 150 < first.loc["AAPL", "close"] < 350
    assert 30_000 < first.loc["BTC/USD", "close"] < 120_000
    assert 40 < first.loc["KO", "close"] < 100


def test_two_stocks_are_correlated_within_a_sane_band(bars: pd.DataFrame) -> None:
    stocks = bars[(bars["ts"] >= "2025-01-01") & ~bars["symbol"].str.contains("/")]
    rets = _log_returns(stocks).dropna()
    assert len(rets) >= 240
    assert 0.2 < rets["AAPL"].corr(rets["MSFT"]) < 0.85
    assert 0.2 < rets["JPM"].corr(rets["KO"]) < 0.85


def test_crypto_moves_together_but_only_loosely_with_stocks(bars: pd.DataFrame) -> None:
    rets = _log_returns(bars)
    crypto = rets[["BTC/USD", "ETH/USD"]].dropna()
    assert crypto["BTC/USD"].corr(crypto["ETH/USD"]) > 0.5
    both = rets[["BTC/USD", "AAPL"]].dropna()
    assert abs(both["BTC/USD"].corr(both["AAPL"])) < 0.4


def test_volatility_clusters(bars: pd.DataFrame) -> None:
    # Big days follow big days: ranks of |return| stay autocorrelated over the next week.
    acf = []
    for _, one in bars.groupby("symbol"):
        size = np.log(one["close"]).diff().dropna().abs().rank().reset_index(drop=True)
        acf += [size.autocorr(lag) for lag in range(1, 6)]
    assert np.mean(acf) > 0.015


def test_volume_rises_with_the_size_of_the_move(bars: pd.DataFrame) -> None:
    one = bars[bars["symbol"] == "NVDA"]
    move = np.log(one["close"]).diff().abs()
    assert move.rank().corr(one["volume"].rank()) > 0.2  # Spearman, without needing scipy


def test_news_is_never_published_after_now_and_is_stamped_as_ingested_now(market: SyntheticMarket) -> None:
    now = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
    items = market.news(now)
    assert items
    assert all(n.published_at <= now and n.ingested_at == now for n in items)
    assert max(n.published_at for n in items) > datetime(2025, 3, 13, tzinfo=UTC)
    assert len(market.news(datetime(2023, 12, 31, tzinfo=UTC))) == 0


def test_news_items_are_well_formed(market: SyntheticMarket) -> None:
    items = market.news(datetime(2024, 3, 1, tzinfo=UTC))
    truth = market.true_sentiment()
    assert len({n.id for n in items}) == len(items)
    for n in items:
        assert n.source == "synthetic" and n.url.startswith("https://news.example/synthetic/")
        assert n.id == make_news_id(n.source, n.url, n.headline)
        assert n.published_at.tzinfo is not None and len(n.symbols) == 1
        assert -1.0 <= truth[n.id] <= 1.0
    assert [n.published_at for n in items] == sorted(n.published_at for n in items)


def test_news_needs_a_timezone_aware_now(market: SyntheticMarket) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        market.news(datetime(2025, 1, 1))


def test_positive_news_is_followed_by_better_next_session_returns_than_negative(
        market: SyntheticMarket, bars: pd.DataFrame) -> None:
    truth = market.true_sentiment()
    by_symbol = {s: g for s, g in bars.groupby("symbol")}
    rets = {s: np.log(g["close"].to_numpy()) for s, g in by_symbol.items()}
    after: dict[int, list[float]] = {1: [], -1: []}
    for n in market.news(datetime(2026, 1, 1, tzinfo=UTC)):
        s, tone = n.symbols[0], truth[n.id]
        if tone == 0:
            continue
        ts = by_symbol[s]["ts"]
        k = int(ts.searchsorted(pd.Timestamp(n.published_at.date(), tz="UTC"), side="right"))
        if 0 < k < len(ts):  # the first session after the publication day
            after[1 if tone > 0 else -1].append(rets[s][k] - rets[s][k - 1])
    assert min(len(v) for v in after.values()) > 1000
    assert np.mean(after[1]) > np.mean(after[-1]) + 0.002


def test_earnings_have_estimates_and_past_ones_have_actuals(market: SyntheticMarket) -> None:
    events = market.earnings()
    stocks = {i.symbol for i in DEFAULT_STOCKS}
    assert {e.symbol for e in events} == stocks
    assert all(e.eps_estimate is not None and e.hour in (EarningsHour.BEFORE_OPEN, EarningsHour.AFTER_CLOSE)
               for e in events)
    past = [e for e in events if e.date <= END]
    future = [e for e in events if e.date > END]
    assert all(e.eps_actual is not None and e.surprise is not None for e in past)
    assert all(e.eps_actual is None for e in future)
    assert len(future) == len(stocks)  # each stock's next report is on the calendar
    per_stock = pd.Series([e.symbol for e in past]).value_counts()
    assert per_stock.between(7, 9).all()  # quarterly over two years


def test_earnings_actuals_appear_only_once_released() -> None:
    m = SyntheticMarket(seed=4, start=date(2025, 1, 1), end=date(2025, 6, 30), instruments=DEFAULT_STOCKS[:2])
    event = next(e for e in m.earnings() if e.date <= date(2025, 6, 30))
    day_before = datetime.combine(event.date, datetime.min.time(), UTC)
    week_after = day_before + timedelta(days=7)
    assert next(e for e in m.earnings(now=day_before) if e.date == event.date).eps_actual is None
    assert next(e for e in m.earnings(now=week_after) if e.date == event.date).eps_actual == event.eps_actual


def test_a_symbols_history_does_not_depend_on_the_rest_of_the_universe() -> None:
    alone = SyntheticMarket(seed=8, start=date(2025, 1, 1), end=date(2025, 6, 30),
                            instruments=DEFAULT_STOCKS[:1])
    full = SyntheticMarket(seed=8, start=date(2025, 1, 1), end=date(2025, 6, 30)).bars()
    pd.testing.assert_frame_equal(alone.bars(), full[full["symbol"] == "AAPL"].reset_index(drop=True))


def test_a_longer_range_extends_the_bars_without_rewriting_them() -> None:
    short = SyntheticMarket(seed=8, start=date(2025, 1, 1), end=date(2025, 4, 30)).bars()
    long = SyntheticMarket(seed=8, start=date(2025, 1, 1), end=date(2025, 9, 30)).bars()
    head = long[long["ts"] < "2025-05-01"].reset_index(drop=True)
    pd.testing.assert_frame_equal(short, head)


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before start"):
        SyntheticMarket(seed=1, start=date(2025, 2, 1), end=date(2025, 1, 1))


def test_ten_symbols_over_120_days_generate_well_under_a_second() -> None:
    SyntheticMarket(seed=0, start=date(2025, 5, 1), end=date(2025, 5, 2))  # warm the calendar cache
    t0 = time.perf_counter()
    m = SyntheticMarket(seed=9, start=date(2025, 5, 1), end=date(2025, 8, 28))
    m.bars(), m.news(datetime(2025, 9, 1, tzinfo=UTC)), m.earnings()
    assert time.perf_counter() - t0 < 0.5
