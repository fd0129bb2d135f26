"""alpaca-paper mode end to end: bars from Alpaca's data API, the trade cycle, a bracketed order at Alpaca."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.fakes.alpaca_rest import FakeAlpacaServer, rfc3339
from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tradebot.calendars import nyse
from tradebot.store.db import make_engine, session_factory
from tradebot.store.risk_state import load_stops
from tradebot.store.trading import OrderRow

KEY, SECRET = "AKCYCLE00000001", "cycle-secret-value-01"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, NYSE open since 14:30 UTC


def _rising_daily_bars(first: date, last: date) -> list[dict]:
    """NYSE sessions from first to last with a steady climb: the fast average sits above the slow one."""
    sessions = [d.date() for d in nyse().sessions_in_range(first.isoformat(), last.isoformat())]
    bars = []
    for i, day in enumerate(sessions):
        close = 100.0 + 0.5 * i + (0.8 if i % 3 == 0 else -0.4)
        bars.append({"t": rfc3339(datetime(day.year, day.month, day.day, tzinfo=UTC)), "o": close - 0.3,
                     "h": close + 1.0, "l": close - 1.2, "c": close, "v": 1_000_000, "n": 5000, "vw": close})
    return bars


def test_an_alpaca_paper_cycle_sends_one_bracketed_entry_whose_stop_matches_the_ledger(tmp_path, monkeypatch):
    from flows.ingest_prices import ingest_prices
    from flows.trade_cycle import trade_cycle

    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_KEY_ID", KEY)
    monkeypatch.setenv("TRADEBOT_SECRET_ALPACA_SECRET_KEY", SECRET)
    bars = _rising_daily_bars(date(2026, 7, 1), date(2026, 11, 20))
    with FakeAlpacaServer(stock_bars={"AAPL": bars}) as data, \
            FakeAlpacaTradingServer(KEY, SECRET, cash=Decimal("100000"), max_lifetime=120) as trading:
        trading.set_price("AAPL", str(bars[-1]["c"]))
        overrides = {
            "home": str(tmp_path), "mode": "alpaca-paper",
            "universe": {"stocks": ["AAPL"], "crypto": []},
            "data": {"source": "alpaca", "max_staleness_hours": 200},
            "alpaca": {"key_id": KEY, "secret_key": SECRET, "data_url": data.base_url,
                       "trading_url": trading.base_url},
            "strategies": [{"name": "sma_cross", "params": {"fast": 5, "slow": 20}}],
        }
        ingest_prices(overrides=overrides, end=NOW)
        first = trade_cycle(overrides=overrides, now=NOW)
        second = trade_cycle(overrides=overrides, now=NOW + timedelta(minutes=5))
        placed = trading.orders_by_client_id()
    assert first["submitted"] == 1, first
    [[parent]] = placed.values()
    assert parent["symbol"] == "AAPL" and parent["order_class"] in ("bracket", "oto")
    stop_leg = next(leg for leg in parent["legs"] if leg["type"] == "stop")
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))
    with sessions() as s:
        rows = s.scalars(select(OrderRow).where(OrderRow.symbol == "AAPL")).all()
        stops = load_stops(s, "paper-main")
    assert [r.broker for r in rows] == ["alpaca"]
    assert Decimal(stop_leg["stop_price"]) == Decimal(str(stops["AAPL"]["stop"]))
    # A second cycle, position held at the broker: no second entry, nothing placed twice.
    assert len(placed) == 1 and second["submitted"] == 0
