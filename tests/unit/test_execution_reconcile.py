"""Reconciliation's pure diff: every difference between ledger and broker comes out as one typed drift item."""

from datetime import UTC, datetime
from decimal import Decimal

from tradebot.domain import ClientOrderId, Fill, Order, OrderStatus, OrderType, Position, Side, Symbol
from tradebot.execution.reconcile import (
    BrokerView,
    DriftKind,
    LedgerView,
    diff_orders,
    diff_positions,
    orders_to_look_up,
)

T = datetime(2026, 11, 24, 15, tzinfo=UTC)


def order(cid: str, status=OrderStatus.SUBMITTED, filled="0", symbol="AAPL") -> Order:
    return Order(ClientOrderId(cid), Symbol(symbol), Side.BUY, Decimal("10"), OrderType.MARKET, status, T,
                 broker_order_id=f"b-{cid}", filled_qty=Decimal(filled))


def fill(fid: str, cid: str, qty="10") -> Fill:
    return Fill(fid, ClientOrderId(cid), Symbol("AAPL"), Side.BUY, Decimal(qty), Decimal("100"), Decimal(0), T)


def view(open_orders=(), fill_ids=(), filled=None) -> LedgerView:
    return LedgerView({o.client_order_id: o for o in open_orders}, frozenset(fill_ids), {}, filled or {})


def test_matching_books_have_no_drift():
    a = order("a")
    assert diff_orders(view([a]), BrokerView([a], [], [])) == []
    assert diff_positions({"AAPL": Decimal("5")}, [Position(Symbol("AAPL"), Decimal("5"), Decimal("1"))]) == []


def test_only_working_orders_the_broker_does_not_list_need_a_lookup():
    assert orders_to_look_up(view([order("a"), order("b")]), [order("a")]) == ["b"]


def test_an_order_filled_at_the_broker_but_working_in_the_ledger_is_status_drift():
    [d] = diff_orders(view([order("a")]), BrokerView([], [], [], {"a": order("a", OrderStatus.FILLED, "10")}))
    assert d.kind is DriftKind.ORDER_STATUS and d.broker_qty == Decimal("10") and "broker filled" in d.detail


def test_a_working_order_the_broker_has_never_seen_is_missing():
    [d] = diff_orders(view([order("a")]), BrokerView([], [], [], {"a": None}))
    assert d.kind is DriftKind.MISSING_ORDER and d.client_order_id == "a"


def test_a_failed_lookup_is_not_taken_for_a_missing_order():
    assert diff_orders(view([order("a")]), BrokerView([], [], [], {})) == []


def test_a_working_order_at_the_broker_the_ledger_does_not_know_is_unknown():
    [d] = diff_orders(view(), BrokerView([order("x")], [], []))
    assert d.kind is DriftKind.UNKNOWN_ORDER and d.client_order_id == "x"


def test_a_fill_the_ledger_lacks_is_missing_and_names_its_fill_id():
    [d] = diff_orders(view(), BrokerView([], [fill("f1", "a")], []))
    assert d.kind is DriftKind.MISSING_FILL and d.ref == "f1"


def test_one_execution_under_two_names_is_not_booked_twice():
    # The stream called it "exec-1", the REST history "20261124::exec-1": the order's quantity is already there.
    assert diff_orders(view(fill_ids={"exec-1"}, filled={"a": Decimal("10")}),
                       BrokerView([], [fill("20261124::exec-1", "a")], [])) == []


def test_only_as_many_fills_as_the_ledger_is_short_are_missing():
    items = diff_orders(view(fill_ids={"f1"}, filled={"a": Decimal("4")}),
                        BrokerView([], [fill("f1", "a", "4"), fill("f2", "a", "6")], []))
    assert [d.ref for d in items] == ["f2"]


def test_positions_only_the_broker_holds_are_unknown_and_different_quantities_mismatch():
    items = diff_positions({"AAPL": Decimal("5"), "KO": Decimal("3")},
                           [Position(Symbol("AAPL"), Decimal("7"), Decimal("1")),
                            Position(Symbol("TSLA"), Decimal("2"), Decimal("1"))])
    kinds = {d.symbol: d.kind for d in items}
    assert kinds == {"AAPL": DriftKind.POSITION_MISMATCH, "KO": DriftKind.POSITION_MISMATCH,
                     "TSLA": DriftKind.UNKNOWN_POSITION}
