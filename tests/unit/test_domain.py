"""Domain types: validation, arithmetic and deterministic ids."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradebot.domain import (
    ClientOrderId,
    Direction,
    EarningsEvent,
    EarningsHour,
    Fill,
    OrderIntent,
    OrderStatus,
    OrderType,
    Portfolio,
    Position,
    Side,
    Signal,
    Symbol,
    make_client_order_id,
)
from tradebot.domain.market import Bar

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def test_client_order_id_is_deterministic_and_distinct_per_leg():
    a = make_client_order_id("news", "AAPL", "run:20260105", "entry")
    assert a == make_client_order_id("news", "AAPL", "run:20260105", "entry")
    assert a != make_client_order_id("news", "AAPL", "run:20260105", "exit")
    assert a != make_client_order_id("news", "AAPL", "run:20260106", "entry")
    assert len(a) <= 36  # Binance's newClientOrderId limit


def test_terminal_statuses_are_exactly_filled_canceled_rejected_expired():
    assert {s for s in OrderStatus if s.terminal} == {
        OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}


@pytest.mark.parametrize("strength,confidence", [(1.5, 0.5), (-1.01, 0.5), (0.5, 1.2), (0.5, -0.1)])
def test_signal_refuses_out_of_range_strength_or_confidence(strength, confidence):
    with pytest.raises(ValueError):
        Signal("s", Symbol("AAPL"), NOW, Direction.LONG, strength, confidence, 1)


def test_intent_refuses_non_positive_qty_and_limit_without_price():
    cid = ClientOrderId("tb-x")
    with pytest.raises(ValueError, match="qty must be positive"):
        OrderIntent(cid, "s", Symbol("AAPL"), Side.BUY, Decimal("0"), NOW)
    with pytest.raises(ValueError, match="limit_price"):
        OrderIntent(cid, "s", Symbol("AAPL"), Side.BUY, Decimal("1"), NOW, order_type=OrderType.LIMIT)


def test_fill_cash_delta_includes_commission_on_both_sides():
    buy = Fill("f1", ClientOrderId("a"), Symbol("X"), Side.BUY, Decimal("10"), Decimal("5.5"), Decimal("0.10"), NOW)
    sell = Fill("f2", ClientOrderId("b"), Symbol("X"), Side.SELL, Decimal("4"), Decimal("6"), Decimal("0.05"), NOW)
    assert buy.cash_delta == Decimal("-55.10")
    assert sell.cash_delta == Decimal("23.95")


def test_portfolio_equity_is_cash_plus_marked_positions():
    pf = Portfolio(Decimal("1000"), {Symbol("X"): Position(Symbol("X"), Decimal("3"), Decimal("10"))})
    assert pf.equity({Symbol("X"): Decimal("12.5")}) == Decimal("1037.5")
    assert pf.qty(Symbol("Y")) == 0


def test_bar_refuses_naive_timestamps():
    with pytest.raises(ValueError, match="timezone-aware"):
        Bar(Symbol("X"), "1Day", datetime(2026, 1, 5), *(Decimal(1),) * 5)


def test_earnings_surprise_needs_both_numbers():
    base = dict(symbol=Symbol("X"), date=NOW.date(), hour=EarningsHour.AFTER_CLOSE)
    assert EarningsEvent(**base, eps_estimate=1.0, eps_actual=1.2).surprise == pytest.approx(0.2)
    assert EarningsEvent(**base, eps_estimate=1.0, eps_actual=None).surprise is None
    assert EarningsEvent(**base, eps_estimate=0.0, eps_actual=0.1).surprise is None
