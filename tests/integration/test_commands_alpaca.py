"""Manual commands in alpaca-paper mode: the configured broker is Alpaca (real alpaca-py against the local fake)."""

from datetime import UTC, datetime
from decimal import Decimal

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tradebot.commands import cancel_open_orders, cli_actor, configured_broker
from tradebot.config import load_settings
from tradebot.domain import OrderIntent, OrderType, RiskDecision, Side, Symbol, Verdict, make_client_order_id
from tradebot.store import ledger
from tradebot.store.db import transaction

KEY, SECRET = "AKDASHBOARDTEST01", "dashboard-test-secret"  # noqa: S105 - the fake's credentials
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_cancel_orders_in_alpaca_paper_mode_cancels_at_alpaca_and_in_the_ledger(sessions, ledger_url):
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as fake:
        fake.set_price("AAPL", "190.00")
        settings = load_settings(mode="alpaca-paper", database_url=ledger_url,
                                 alpaca={"key_id": KEY, "secret_key": SECRET, "trading_url": fake.base_url})
        broker = configured_broker(settings, sessions)
        assert broker.name == "alpaca"
        cid = make_client_order_id("test", "AAPL", "c1")
        intent = OrderIntent(cid, "test", Symbol("AAPL"), Side.BUY, Decimal("3"), NOW, order_type=OrderType.LIMIT,
                             limit_price=Decimal("150"))  # far below the market: it keeps working
        account = settings.paper.account
        with transaction(sessions) as s:
            ledger.ensure_run(s, account, "paper", "alpaca-paper", Decimal("100000"), NOW)
            ledger.record_proposal(s, account, "c1", intent,
                                   RiskDecision(cid, Verdict.ACCEPTED, Decimal("3"), Decimal("3"), ()), None, NOW)
        order = broker.submit_order(intent, NOW)
        with transaction(sessions) as s:
            ledger.upsert_order(s, account, broker.name, order, NOW)
        result = cancel_open_orders(sessions, cli_actor(), account, broker, "AAPL", "test", NOW)
        assert result.outcomes == {cid: "canceled"}
        assert broker.get_order(cid).status.value == "canceled"
        with sessions() as s:
            assert ledger.open_orders(s, account) == []
