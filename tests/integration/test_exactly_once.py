"""Exactly once through the real clients: scripted faults on the fake Alpaca and Binance order endpoints."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tests.fakes.binance_spot import FakeBinanceSpotServer
from tradebot.domain import OrderIntent, OrderStatus, Side, Symbol, make_client_order_id
from tradebot.execution.config import ExecutionConfig
from tradebot.execution.submitter import recover_submitting, submit_intent
from tradebot.store import ledger, orders
from tradebot.store.db import transaction
from tradebot.store.trading import OrderRow

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
RUN = "eo"
CFG = ExecutionConfig(backoff_seconds=0.01, orders_per_second=1000)
TIMEOUT = 0.5


@pytest.fixture
def run(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, RUN, "test", "paper", Decimal("100000"), OPEN)
    return sessions


@pytest.fixture
def alpaca():
    from tradebot.adapters.alpaca_broker import AlpacaBroker

    with FakeAlpacaTradingServer("AK", "SK", max_lifetime=60, enforce_unique_client_ids=False) as fake:
        fake.set_price("AAPL", "100")
        yield fake, AlpacaBroker("AK", "SK", fake.base_url, timeout=(TIMEOUT, TIMEOUT))


@pytest.fixture
def binance():
    from tradebot.adapters.binance_broker import BinanceBroker

    with FakeBinanceSpotServer("BK", "BS", max_lifetime=60) as fake:
        fake.set_price("BTCUSDT", "50000")
        yield fake, BinanceBroker("BK", "BS", rest_url=fake.base_url, timeout=TIMEOUT, symbols=["BTC/USD"])


def intent(symbol="AAPL", qty="2", leg="entry") -> OrderIntent:
    return OrderIntent(make_client_order_id("eo", symbol, "c1", leg), "eo", Symbol(symbol), Side.BUY, Decimal(qty),
                       OPEN, reference_price=Decimal("100"))


def ledger_status(sessions, cid) -> str | None:
    with sessions() as s:
        return s.scalar(select(OrderRow.status).where(OrderRow.client_order_id == cid))


@pytest.mark.parametrize("fault", ["accept_then_timeout", "error_after", "drop_after", "error_before",
                                   "drop_before", "rate_limited"])
def test_an_alpaca_order_is_placed_exactly_once_whatever_the_submit_call_suffers(run, alpaca, fault):
    fake, broker = alpaca
    fake.inject(fault)
    it = intent()
    order = submit_intent(run, RUN, broker, it, OPEN, config=CFG)
    assert len(fake.orders_by_client_id()[it.client_order_id]) == 1
    assert order.status in (OrderStatus.SUBMITTED, OrderStatus.FILLED) and order.broker_order_id
    assert ledger_status(run, it.client_order_id) == order.status.value


@pytest.mark.parametrize("fault", ["accept_then_timeout", "status_unknown", "drop_after", "error_before",
                                   "banned"])
def test_a_binance_order_is_placed_exactly_once_whatever_the_submit_call_suffers(run, binance, fault):
    fake, broker = binance
    fake.fail(fault, delay=2.0)
    it = intent("BTC/USD", "0.01")
    order = submit_intent(run, RUN, broker, it, OPEN, config=CFG)
    assert len(fake.orders_by_client_id()[it.client_order_id]) == 1
    assert order.status is OrderStatus.FILLED and ledger_status(run, it.client_order_id) == "filled"


def test_an_order_that_reached_alpaca_before_a_crash_is_recovered_without_a_second_one(run, alpaca):
    fake, broker = alpaca
    it = intent()
    with transaction(run) as s:
        orders.begin_submission(s, RUN, broker.name, it, OPEN)
    broker.submit_order(it, OPEN)  # the process died before it could record the reply
    [order] = recover_submitting(run, RUN, broker, OPEN, config=CFG)
    assert order.broker_order_id and fake.order_posts[it.client_order_id] == 1


def test_a_stock_order_while_nyse_is_closed_never_reaches_the_broker(run, alpaca):
    fake, broker = alpaca
    order = submit_intent(run, RUN, broker, intent(), NIGHT, config=CFG)
    assert order.status is OrderStatus.REJECTED and order.reject_reason.startswith("market closed")
    assert not [p for p in fake.paths() if p.startswith("/v2/orders")]


def test_a_broker_rejection_is_recorded_with_the_brokers_message(run, alpaca):
    fake, broker = alpaca
    it = intent(qty="100000")  # far beyond the fake account's buying power
    order = submit_intent(run, RUN, broker, it, OPEN, config=CFG)
    assert order.status is OrderStatus.REJECTED and "insufficient buying power" in order.reject_reason
    with run() as s:
        row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == it.client_order_id))
        assert "insufficient buying power" in row.reject_reason
