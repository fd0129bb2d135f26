"""The paper broker's stops: stop, stop-limit and trailing orders, protect() with a one-cancels-other take profit."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradebot.adapters.paper import PaperBroker, Quote
from tradebot.domain import ClientOrderId, OrderIntent, OrderStatus, OrderType, Protection, Side, Symbol, TimeInForce

T0 = datetime(2026, 3, 2, tzinfo=UTC)
AAPL = Symbol("AAPL")


def day(n: int, o="100", h="101", lo="99") -> dict[str, Quote]:
    return {AAPL: Quote(T0 + timedelta(days=n), Decimal(o), Decimal(h), Decimal(lo))}


@pytest.fixture
def broker(sessions) -> PaperBroker:
    b = PaperBroker(sessions, "acct", Decimal("100000"), slippage_bps=Decimal(0), commission_bps=Decimal(0))
    b.open_account(T0)
    b.submit_order(OrderIntent(ClientOrderId("buy"), "t", AAPL, Side.BUY, Decimal("10"), T0), T0)
    b.on_quotes(day(1))
    return b


def sell(cid: str, otype: OrderType, **kw) -> OrderIntent:
    return OrderIntent(ClientOrderId(cid), "t", AAPL, Side.SELL, Decimal("10"), T0, order_type=otype,
                       time_in_force=TimeInForce.GTC, **kw)


def test_a_gtc_stop_keeps_working_until_the_price_crosses_it_then_fills_at_the_stop(broker):
    broker.submit_order(sell("s", OrderType.STOP, stop_price=Decimal("95")), T0 + timedelta(days=1))
    broker.on_quotes(day(2))
    assert broker.get_order(ClientOrderId("s")).status is OrderStatus.SUBMITTED
    [f] = broker.on_quotes(day(3, o="98", h="98", lo="90"))
    assert f.price == Decimal("95") and broker.positions() == []


def test_a_stop_gapped_through_fills_at_the_open(broker):
    broker.submit_order(sell("s", OrderType.STOP, stop_price=Decimal("95")), T0 + timedelta(days=1))
    [f] = broker.on_quotes(day(2, o="90", h="91", lo="89"))
    assert f.price == Decimal("90")


def test_a_stop_limit_gapped_below_its_limit_does_not_fill(broker):
    broker.submit_order(sell("s", OrderType.STOP_LIMIT, stop_price=Decimal("95"), limit_price=Decimal("94")),
                        T0 + timedelta(days=1))
    assert broker.on_quotes(day(2, o="90", h="91", lo="89")) == []
    assert broker.get_order(ClientOrderId("s")).status is OrderStatus.SUBMITTED


def test_a_trailing_stop_ratchets_up_with_the_high_and_never_back(broker):
    broker.submit_order(sell("t", OrderType.TRAILING_STOP, trail_percent=Decimal("5"), reference_price=Decimal("100")),
                        T0 + timedelta(days=1))
    assert broker.get_order(ClientOrderId("t")).stop_price == Decimal("95")
    broker.on_quotes(day(2, o="105", h="110", lo="104"))
    assert broker.get_order(ClientOrderId("t")).stop_price == Decimal("104.5")
    broker.on_quotes(day(3, o="106", h="106", lo="105"))
    assert broker.get_order(ClientOrderId("t")).stop_price == Decimal("104.5")
    [f] = broker.on_quotes(day(4, o="104", h="104", lo="100"))
    assert f.price == Decimal("104")


def test_protect_places_a_stop_and_a_take_profit_and_one_filling_cancels_the_other(broker):
    stop = broker.protect(AAPL, Decimal("10"), Protection(Decimal("95"), Decimal("110")), ClientOrderId("p"),
                          T0 + timedelta(days=1))
    assert stop.status is OrderStatus.SUBMITTED and stop.stop_price == Decimal("95")
    assert {o.client_order_id for o in broker.open_orders()} == {"p", "p-tp"}
    [f] = broker.on_quotes(day(2, o="108", h="112", lo="107"))
    assert f.client_order_id == "p-tp" and f.price == Decimal("110")
    assert broker.get_order(ClientOrderId("p")).status is OrderStatus.CANCELED and broker.open_orders() == []


def test_protect_is_idempotent_on_its_client_order_id_and_refuses_more_than_is_held(broker):
    first = broker.protect(AAPL, Decimal("10"), Protection(Decimal("95")), ClientOrderId("p"), T0)
    assert broker.protect(AAPL, Decimal("10"), Protection(Decimal("95")), ClientOrderId("p"), T0) == first
    extra = broker.protect(AAPL, Decimal("5"), Protection(Decimal("90")), ClientOrderId("q"), T0)
    assert extra.status is OrderStatus.REJECTED and "only 0 free" in extra.reject_reason
