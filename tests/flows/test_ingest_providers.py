"""The real-provider path: alpaca-py and python-binance against local fakes, through the ingest flow."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.fakes import faults
from tests.fakes.alpaca_rest import CRYPTO_BARS, FakeAlpacaServer, minute_bars, news_item
from tests.fakes.binance_rest import FakeBinanceServer, klines
from tradebot.store.db import make_engine, session_factory
from tradebot.store.market import BarRow, NewsItemRow
from tradebot.store.ops import AlertRow

END = datetime(2026, 10, 30, tzinfo=UTC)
START = END - timedelta(days=60)
DAY = timedelta(days=1)


def test_alpaca_bars_load_and_crypto_fails_over_to_binance_with_an_alert(tmp_path, monkeypatch):
    from flows.ingest_prices import ingest_prices

    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_KEY_ID", "AKFAKE")
    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_SECRET_KEY", "fake-secret")
    days = [START + i * DAY for i in range(60)]
    stock = [b for b in minute_bars(START, 60, step=DAY) if datetime.fromisoformat(b["t"].replace("Z", "+00:00"))
             .weekday() < 5]
    with FakeAlpacaServer(stock_bars={"AAPL": stock}, crypto_bars={"BTC/USD": minute_bars(START, 60, 60000.0, DAY)}) \
            as alpaca, FakeBinanceServer({"BTCUSDT": klines(START, 60, interval_ms=86_400_000)}) as binance:
        alpaca.faults.add(CRYPTO_BARS, faults.status(500), times=10)  # Alpaca crypto is down
        overrides = {"home": str(tmp_path), "universe": {"stocks": ["AAPL"], "crypto": ["BTC/USD"]},
                     "data": {"source": "alpaca"}, "alpaca": {"data_url": alpaca.base_url},
                     "feeds": {"binance_url": binance.base_url}}
        summary = ingest_prices(overrides=overrides, end=END)
    assert summary["feed_switches"] and "error" in summary["feed_switches"][0]
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))
    with sessions() as s:
        per_symbol = dict(s.execute(select(BarRow.symbol, func.count()).group_by(BarRow.symbol)).all())
        sources = dict(s.execute(select(BarRow.symbol, BarRow.source).distinct()).all())
        alerts = s.scalars(select(AlertRow.kind)).all()
    assert per_symbol["AAPL"] == len(stock) and per_symbol["BTC/USD"] == len(days)
    assert "feed_stale" in alerts and sources


def test_alpaca_news_is_stored_and_scored(tmp_path, monkeypatch):
    from flows.ingest_news import ingest_news

    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_KEY_ID", "AKFAKE")
    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_SECRET_KEY", "fake-secret")
    news = [news_item(i, h, ["AAPL"], END - timedelta(minutes=10 * (i + 1)), f"https://news.example/{i}")
            for i, h in enumerate(["Apple shares surge after earnings beat", "Apple cuts outlook amid weak demand"])]
    with FakeAlpacaServer(news=news) as alpaca:
        overrides = {"home": str(tmp_path), "universe": {"stocks": ["AAPL"], "crypto": []},
                     "data": {"source": "alpaca"}, "alpaca": {"data_url": alpaca.base_url}}
        out = ingest_news(overrides=overrides, end=END, lookback_minutes=120)
    assert out["good"] == 2 and out["scored"] == 2
    with session_factory(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))() as s:
        assert s.scalar(select(func.count()).select_from(NewsItemRow)) == 2


def test_stale_provider_bars_fail_freshness_and_alert(tmp_path, monkeypatch):
    from flows.ingest_prices import ingest_prices

    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_KEY_ID", "AKFAKE")
    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_SECRET_KEY", "fake-secret")
    old = minute_bars(START, 30, step=DAY)  # the feed stopped a month before END
    with FakeAlpacaServer(stock_bars={"AAPL": old}) as alpaca:
        overrides = {"home": str(tmp_path), "universe": {"stocks": ["AAPL"], "crypto": []},
                     "data": {"source": "alpaca"}, "alpaca": {"data_url": alpaca.base_url}}
        summary = ingest_prices(overrides=overrides, end=END)
    assert "bars_fresh" in summary["failed"] and not summary["success"]
    with session_factory(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))() as s:
        assert "data_quality_failure" in s.scalars(select(AlertRow.kind)).all()


def test_a_second_ingest_asks_only_for_bars_after_the_last_stored_one(tmp_path, monkeypatch):
    from flows.ingest_prices import ingest_prices
    from tests.fakes.alpaca_rest import STOCK_BARS

    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_KEY_ID", "AKFAKE")
    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_SECRET_KEY", "fake-secret")
    bars = minute_bars(START, 60, step=DAY)
    with FakeAlpacaServer(stock_bars={"AAPL": bars}) as alpaca:
        overrides = {"home": str(tmp_path), "universe": {"stocks": ["AAPL"], "crypto": []},
                     "data": {"source": "alpaca"}, "alpaca": {"data_url": alpaca.base_url}}
        first = ingest_prices(overrides=overrides, end=START + 40 * DAY)
        second = ingest_prices(overrides=overrides, end=END)
        starts = [datetime.fromisoformat(r.query["start"].replace("Z", "+00:00"))
                  for r in alpaca.requests if r.path == STOCK_BARS]
    assert first["good"] == 40 and second["good"] == 20  # nothing fetched twice
    assert starts[-1] > START + 39 * DAY  # asked from just after the last stored bar
    with session_factory(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))() as s:
        assert s.scalar(select(func.count()).select_from(BarRow)) == 60
