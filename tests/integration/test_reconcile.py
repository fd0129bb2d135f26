"""Reconciliation against a live paper broker: the ledger converges on orders, fills and positions, per policy."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tradebot.adapters.paper import PaperBroker, Quote
from tradebot.domain import ClientOrderId, OrderIntent, Side, Symbol
from tradebot.execution.config import ExecutionConfig
from tradebot.execution.converge import reconcile_broker
from tradebot.execution.reconcile import DriftKind
from tradebot.execution.submitter import submit_intent
from tradebot.store import ledger, orders
from tradebot.store.db import transaction
from tradebot.store.trading import FillRow, OrderRow, PositionRow

T = datetime(2026, 11, 24, 15, tzinfo=UTC)
RUN = "acct"
CFG = ExecutionConfig(backoff_seconds=0, orders_per_second=1000)
ADOPT = CFG.model_copy(update={"outside_positions": "adopt"})


@pytest.fixture
def paper(sessions) -> PaperBroker:
    with transaction(sessions) as s:
        ledger.ensure_run(s, RUN, "test", "paper", Decimal("100000"), T)
    b = PaperBroker(sessions, RUN, Decimal("100000"), slippage_bps=Decimal(0), commission_bps=Decimal(0))
    b.open_account(T)
    return b


def intent(cid: str, symbol="AAPL", qty="10") -> OrderIntent:
    return OrderIntent(ClientOrderId(cid), "test", Symbol(symbol), Side.BUY, Decimal(qty), T,
                       reference_price=Decimal("100"))


def fill_all(paper: PaperBroker, *symbols: str) -> None:
    paper.on_quotes({s: Quote.at(T + timedelta(hours=1), Decimal("100")) for s in symbols})


def position(sessions, symbol: str) -> Decimal | None:
    with sessions() as s:
        row = s.get(PositionRow, (RUN, symbol))
        return row.qty if row else None


def test_fills_the_ledger_missed_are_pulled_in_and_the_order_closes(sessions, paper):
    submit_intent(sessions, RUN, paper, intent("a"), T, config=CFG)
    fill_all(paper, "AAPL")  # the broker filled it; no sync or event told the ledger
    report = reconcile_broker(sessions, RUN, paper, T + timedelta(hours=2), CFG)
    kinds = sorted(d.kind.value for d in report.drift)
    assert kinds == ["missing_fill", "order_status"] and report.fixed == 2
    assert position(sessions, "AAPL") == Decimal("10")
    again = reconcile_broker(sessions, RUN, paper, T + timedelta(hours=3), CFG)
    assert again.drift == ()


def test_a_working_order_the_broker_never_had_is_closed_in_the_ledger(sessions, paper):
    other = PaperBroker(sessions, "elsewhere", Decimal("100000"))
    other.open_account(T)
    submit_intent(sessions, RUN, other, intent("ghost"), T, config=CFG)  # recorded under this run, lives elsewhere
    with transaction(sessions) as s:
        s.scalar(select(OrderRow).where(OrderRow.client_order_id == "ghost")).broker = "paper"
    report = reconcile_broker(sessions, RUN, paper, T, CFG)
    assert [d.kind for d in report.drift] == [DriftKind.MISSING_ORDER]
    with sessions() as s:
        row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == "ghost"))
        assert row.status == "canceled" and "not found at the broker" in row.reject_reason


def test_an_intent_left_submitting_is_resolved_by_reconciliation(sessions, paper):
    with transaction(sessions) as s:
        orders.begin_submission(s, RUN, "paper", intent("stuck"), T)
    paper.submit_order(intent("stuck"), T)  # it reached the broker before the crash
    report = reconcile_broker(sessions, RUN, paper, T + timedelta(minutes=1), CFG)
    assert report.recovered == 1 and report.drift == ()


def test_a_position_opened_outside_the_bot_is_alerted_and_ignored_by_default(sessions, paper):
    paper.submit_order(intent("manual", "KO", "3"), T)  # placed at the broker by hand, not through the bot
    fill_all(paper, "KO")
    report = reconcile_broker(sessions, RUN, paper, T + timedelta(hours=2), CFG)
    kinds = {d.kind for d in report.drift}
    assert kinds == {DriftKind.MISSING_FILL, DriftKind.UNKNOWN_POSITION} and report.ignored == 2
    assert position(sessions, "KO") is None
    with sessions() as s:
        assert s.scalar(select(FillRow).where(FillRow.symbol == "KO")) is None


def test_a_position_opened_outside_the_bot_is_adopted_when_configured(sessions, paper):
    paper.submit_order(intent("manual", "KO", "3"), T)
    fill_all(paper, "KO")
    report = reconcile_broker(sessions, RUN, paper, T + timedelta(hours=2), ADOPT)
    assert [d.kind for d in report.drift] == [DriftKind.MISSING_FILL] and report.fixed == 1
    assert position(sessions, "KO") == Decimal("3")
    with sessions() as s:
        assert s.scalar(select(OrderRow.status).where(OrderRow.client_order_id == "manual")) == "filled"
    assert reconcile_broker(sessions, RUN, paper, T + timedelta(hours=3), ADOPT).drift == ()


def test_a_quantity_mismatch_is_booked_as_an_adjustment_under_adopt(sessions, paper):
    submit_intent(sessions, RUN, paper, intent("a"), T, config=CFG)
    fill_all(paper, "AAPL")
    reconcile_broker(sessions, RUN, paper, T + timedelta(hours=2), CFG)
    with transaction(sessions) as s:  # the ledger lost a fill's worth of shares somehow
        s.scalar(select(FillRow).where(FillRow.client_order_id == "a")).qty = Decimal("7")
        ledger.rebuild_positions(s, RUN, T)
    report = reconcile_broker(sessions, RUN, paper, T + timedelta(hours=3), ADOPT)
    [d] = [d for d in report.drift if d.kind is DriftKind.POSITION_MISMATCH]
    assert (d.ledger_qty, d.broker_qty) == (Decimal("7"), Decimal("10"))
    assert position(sessions, "AAPL") == Decimal("10")
