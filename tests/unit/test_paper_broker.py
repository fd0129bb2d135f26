"""The paper broker: next-open fills with costs, limits, idempotent client ids, books in SQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradebot.adapters.paper import PaperBroker, Quote
from tradebot.domain import ClientOrderId, OrderIntent, OrderStatus, OrderType, Side, Symbol

T0 = datetime(2026, 3, 2, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
AAPL = Symbol("AAPL")


@pytest.fixture
def broker(sessions) -> PaperBroker:
    b = PaperBroker(sessions, "acct", Decimal("10000"), slippage_bps=Decimal("10"), commission_bps=Decimal("5"))
    b.open_account(T0)
    return b


def intent(cid: str, side=Side.BUY, qty="10", **kw) -> OrderIntent:
    return OrderIntent(ClientOrderId(cid), "test", AAPL, side, Decimal(qty), T0, **kw)


def bar(ts=T1, o="100", h="105", lo="95") -> dict[str, Quote]:
    return {AAPL: Quote(ts, Decimal(o), Decimal(h), Decimal(lo))}


def test_market_buy_fills_at_next_open_plus_slippage_and_pays_commission(broker):
    assert broker.submit_order(intent("a"), T0).status is OrderStatus.SUBMITTED
    [fill] = broker.on_quotes(bar())
    assert fill.price == Decimal("100.1")  # 10 bps slippage
    assert fill.commission == Decimal("0.50")  # 5 bps of 1001
    assert broker.cash() == Decimal("10000") - Decimal("1001") - Decimal("0.50")
    [pos] = broker.positions()
    assert (pos.qty, pos.avg_price) == (Decimal("10"), Decimal("100.1"))
    assert broker.get_order(ClientOrderId("a")).status is OrderStatus.FILLED


def test_a_quote_not_after_submission_does_not_fill(broker):
    broker.submit_order(intent("a"), T1)
    assert broker.on_quotes(bar(ts=T0)) == []
    assert broker.get_order(ClientOrderId("a")).status is OrderStatus.SUBMITTED


def test_repeated_client_order_id_returns_the_existing_order(broker):
    first = broker.submit_order(intent("dup"), T0)
    again = broker.submit_order(intent("dup", qty="99"), T0 + timedelta(hours=1))
    assert again == first
    broker.on_quotes(bar())
    assert len(broker.fills_since(None)) == 1


def test_limit_buy_fills_at_limit_when_reached_and_expires_otherwise(broker):
    broker.submit_order(intent("lim", order_type=OrderType.LIMIT, limit_price=Decimal("97")), T0)
    broker.submit_order(intent("far", order_type=OrderType.LIMIT, limit_price=Decimal("90")), T0)
    fills = broker.on_quotes(bar())
    assert [f.price for f in fills] == [Decimal("97")]
    assert broker.get_order(ClientOrderId("far")).status is OrderStatus.EXPIRED


def test_limit_sell_fills_at_better_of_open_and_limit(broker):
    broker.submit_order(intent("buy"), T0)
    broker.on_quotes(bar())
    broker.submit_order(intent("sell", side=Side.SELL, order_type=OrderType.LIMIT, limit_price=Decimal("104")), T1)
    [fill] = broker.on_quotes(bar(ts=T1 + timedelta(days=1)))
    assert fill.price == Decimal("104")
    assert broker.positions() == []


def test_selling_more_than_held_is_rejected_with_the_reason(broker):
    order = broker.submit_order(intent("s", side=Side.SELL), T0)
    assert order.status is OrderStatus.REJECTED
    assert "short selling disabled" in order.reject_reason


def test_buy_beyond_cash_is_rejected_at_submission_or_at_fill(broker):
    big = broker.submit_order(intent("big", qty="1000", reference_price=Decimal("100")), T0)
    assert big.status is OrderStatus.REJECTED and "insufficient buying power" in big.reject_reason
    broker.submit_order(intent("gap", qty="99"), T0)  # no reference price: checked at the fill
    assert broker.on_quotes(bar(o="200")) == []
    late = broker.get_order(ClientOrderId("gap"))
    assert late.status is OrderStatus.REJECTED and "insufficient cash at fill" in late.reject_reason


def test_cash_plus_positions_at_cost_is_conserved_minus_costs(broker):
    broker.submit_order(intent("b1", qty="20"), T0)
    broker.on_quotes(bar())
    broker.submit_order(intent("s1", side=Side.SELL, qty="5"), T1)
    broker.on_quotes(bar(ts=T1 + timedelta(days=1), o="110", h="111", lo="109"))
    fills = broker.fills_since(None)
    assert broker.cash() == Decimal("10000") + sum(f.cash_delta for f in fills)
    [pos] = broker.positions()
    assert pos.qty == Decimal("15") and pos.avg_price == Decimal("100.1")


def test_cancel_leaves_terminal_orders_alone(broker):
    broker.submit_order(intent("c"), T0)
    assert broker.cancel_order(ClientOrderId("c"), T0).status is OrderStatus.CANCELED
    assert broker.on_quotes(bar()) == []
    broker.submit_order(intent("d"), T0)
    broker.on_quotes(bar())
    assert broker.cancel_order(ClientOrderId("d"), T1).status is OrderStatus.FILLED


def test_accounts_are_isolated(sessions, broker):
    other = PaperBroker(sessions, "other", Decimal("500"))
    other.open_account(T0)
    broker.submit_order(intent("x"), T0)
    broker.on_quotes(bar())
    assert other.cash() == Decimal("500") and other.positions() == [] and other.get_order(ClientOrderId("x")) is None


def test_a_fill_is_stamped_after_its_submission_even_on_a_quote_at_that_instant(broker):
    broker.submit_order(intent("now"), T1)
    [fill] = broker.on_quotes(bar(ts=T1))
    assert fill.ts > T1 and fill.ts - T1 < timedelta(seconds=1)
