"""Outside paper mode the account trades stocks on Alpaca and, when configured, crypto on Binance."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tests.fakes.binance_spot import FakeBinanceSpotServer
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.adapters.routing import RoutingBroker
from tradebot.brokers import build_broker
from tradebot.config import load_settings
from tradebot.domain import OrderIntent, OrderStatus, Side, Symbol, make_client_order_id
from tradebot.errors import ConfigError
from tradebot.execution.submitter import submit_intent
from tradebot.store.db import transaction
from tradebot.store.ledger import ensure_run

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
AK, AS = "AKROUTING0001", "alpaca-routing-secret"
BK, BS = "binance-routing-key", "binance-routing-secret"


def _intent(symbol: str, qty: str) -> OrderIntent:
    return OrderIntent(make_client_order_id("test", symbol, "c1"), "test", Symbol(symbol), Side.BUY, Decimal(qty), NOW)


@pytest.fixture
def venues(monkeypatch, tmp_path):
    with FakeAlpacaTradingServer(AK, AS, cash=Decimal("100000"), max_lifetime=60) as alpaca, \
            FakeBinanceSpotServer(BK, BS, max_lifetime=60) as binance:
        alpaca.set_price("AAPL", "190")
        binance.set_price("BTCUSDT", "50000")
        for name, value in {"ALPACA_KEY_ID": AK, "ALPACA_SECRET_KEY": AS, "BINANCE_API_KEY": BK,
                            "BINANCE_API_SECRET": BS}.items():
            monkeypatch.setenv(f"TRADEBOT_SECRET_{name}", value)
        yield alpaca, binance


def _settings(tmp_path, alpaca, binance, crypto_broker="binance"):
    return load_settings(None, mode="alpaca-paper", home=str(tmp_path),
                         universe={"stocks": ["AAPL"], "crypto": ["BTC/USD"]},
                         alpaca={"trading_url": alpaca.base_url, "key_id": AK, "secret_key": AS},
                         binance={"rest_url": binance.base_url, "timeout_seconds": 2},
                         execution={"crypto_broker": crypto_broker})


def test_stocks_go_to_alpaca_and_crypto_to_binance_and_lookups_find_each(venues, sessions, tmp_path):
    alpaca, binance = venues
    broker = build_broker(_settings(tmp_path, alpaca, binance), sessions, "live-acct")
    assert isinstance(broker, RoutingBroker) and broker.name == "alpaca+binance"
    with transaction(sessions) as s:
        ensure_run(s, "live-acct", "paper", "alpaca-paper", Decimal("100000"), NOW)
    stock, coin = _intent("AAPL", "5"), _intent("BTC/USD", "0.01")
    for intent in (stock, coin):
        assert submit_intent(sessions, "live-acct", broker, intent, NOW, enforce_hours=False).status in (
            OrderStatus.SUBMITTED, OrderStatus.FILLED)
    assert list(alpaca.orders_by_client_id()) == [stock.client_order_id]
    assert list(binance.orders_by_client_id()) == [coin.client_order_id]
    # The ledger names each id's symbol, so each lookup asks only the venue that holds it.
    assert broker.get_order(stock.client_order_id).symbol == "AAPL"
    assert broker.get_order(coin.client_order_id).symbol == "BTC/USD"
    assert {p.symbol for p in broker.positions()} == {"AAPL", "BTC/USD"}


def test_without_binance_configured_crypto_stays_on_alpaca(venues, sessions, tmp_path):
    alpaca, binance = venues
    broker = build_broker(_settings(tmp_path, alpaca, binance, "alpaca"), sessions, "live-acct")
    assert isinstance(broker, AlpacaBroker)


def test_a_missing_binance_key_is_named(venues, sessions, tmp_path, monkeypatch):
    alpaca, binance = venues
    monkeypatch.delenv("TRADEBOT_SECRET_BINANCE_API_SECRET")
    with pytest.raises(ConfigError, match="binance_api_secret"):
        build_broker(_settings(tmp_path, alpaca, binance), sessions, "live-acct")
