"""Order events: each applied once by event id, statuses only move forward, each fill recorded once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tradebot.adapters.paper import PaperBroker
from tradebot.domain import ClientOrderId, Fill, OrderEvent, OrderIntent, OrderStatus, Side, Symbol
from tradebot.execution.config import ExecutionConfig
from tradebot.execution.events import apply_order_events
from tradebot.execution.submitter import submit_intent
from tradebot.store import ledger, orders
from tradebot.store.db import transaction
from tradebot.store.trading import FillRow, OrderRow, PositionRow

T = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
RUN = "run-ev"
CID = ClientOrderId("tb-ev-1")
FAST = ExecutionConfig(backoff_seconds=0, orders_per_second=1000)


@pytest.fixture
def order(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, RUN, "test", "paper", Decimal("100000"), T)
    broker = PaperBroker(sessions, RUN, Decimal("100000"))
    broker.open_account(T)
    it = OrderIntent(CID, "test", Symbol("AAPL"), Side.BUY, Decimal("10"), T, reference_price=Decimal("100"))
    return submit_intent(sessions, RUN, broker, it, T, config=FAST)


def ev(event_id: str, status: OrderStatus, minutes: int, fill_qty: str | None = None, fill_id: str = "") -> OrderEvent:
    ts = T + timedelta(minutes=minutes)
    fill = None
    if fill_qty:
        fill = Fill(fill_id or f"f-{event_id}", CID, Symbol("AAPL"), Side.BUY, Decimal(fill_qty), Decimal("100"),
                    Decimal("0.1"), ts)
    return OrderEvent(event_id, CID, "po-1", status, ts, fill)


def row(sessions) -> OrderRow:
    with sessions() as s:
        return s.scalar(select(OrderRow).where(OrderRow.client_order_id == CID))


def fills(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(FillRow).where(FillRow.client_order_id == CID))


def test_a_duplicate_fill_event_is_applied_once(sessions, order):
    first = apply_order_events(sessions, RUN, "paper", [ev("e1", OrderStatus.PARTIALLY_FILLED, 1, "4")], T)
    again = apply_order_events(sessions, RUN, "paper", [ev("e1", OrderStatus.PARTIALLY_FILLED, 1, "4")], T)
    assert (first.applied, first.new_fills, again.duplicates, again.new_fills) == (1, 1, 1, 0)
    assert fills(sessions) == 1 and row(sessions).filled_qty == Decimal("4")


def test_a_redelivery_inside_one_batch_is_dropped_too(sessions, order):
    e = ev("e1", OrderStatus.PARTIALLY_FILLED, 1, "4")
    result = apply_order_events(sessions, RUN, "paper", [e, e], T)
    assert (result.applied, result.duplicates) == (1, 1) and fills(sessions) == 1


def test_out_of_order_events_cannot_regress_a_status_but_their_fills_still_count(sessions, order):
    done = ev("e2", OrderStatus.FILLED, 2, "6")
    partial = ev("e1", OrderStatus.PARTIALLY_FILLED, 1, "4")
    apply_order_events(sessions, RUN, "paper", [done], T)
    late = apply_order_events(sessions, RUN, "paper", [partial], T)
    r = row(sessions)
    assert r.status == "filled" and r.filled_qty == Decimal("10") and fills(sessions) == 2
    assert late.applied == 1  # its fill was new, its status was not


def test_a_terminal_status_never_moves_back(sessions, order):
    apply_order_events(sessions, RUN, "paper", [ev("c", OrderStatus.CANCELED, 3)], T)
    late = apply_order_events(sessions, RUN, "paper", [ev("s", OrderStatus.SUBMITTED, 1),
                                                       ev("f", OrderStatus.FILLED, 2)], T)
    assert row(sessions).status == "canceled" and late.stale == 2


def test_fills_from_events_rebuild_the_position(sessions, order):
    apply_order_events(sessions, RUN, "paper", [ev("a", OrderStatus.PARTIALLY_FILLED, 1, "4"),
                                                ev("b", OrderStatus.FILLED, 2, "6")], T)
    with sessions() as s:
        assert s.get(PositionRow, (RUN, "AAPL")).qty == Decimal("10")


def test_an_event_for_an_order_the_ledger_never_saw_is_reported_unknown(sessions, order):
    stranger = OrderEvent("x", ClientOrderId("not-ours"), "b-9", OrderStatus.FILLED, T)
    result = apply_order_events(sessions, RUN, "paper", [stranger], T)
    assert result.unknown == (stranger,) and result.applied == 0


def test_an_event_that_beats_the_submitters_answer_records_the_order_from_the_intent(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, RUN, "test", "paper", Decimal("100000"), T)
        it = OrderIntent(CID, "test", Symbol("AAPL"), Side.BUY, Decimal("10"), T)
        orders.begin_submission(s, RUN, "paper", it, T)
    result = apply_order_events(sessions, RUN, "paper", [ev("e1", OrderStatus.FILLED, 1, "10")], T)
    r = row(sessions)
    assert result.applied == 1 and (r.status, r.filled_qty, r.broker_order_id) == ("filled", Decimal("10"), "po-1")
