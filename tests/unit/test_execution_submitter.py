"""Exactly-once submission: intent first, lookup before every retry, recovery of crashed submissions, market hours."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.fakes.scripted_broker import ScriptedBroker
from tradebot.adapters.paper import PaperBroker
from tradebot.domain import ClientOrderId, OrderIntent, OrderStatus, OrderType, Side, Symbol, make_client_order_id
from tradebot.errors import BrokerUnavailable
from tradebot.execution.config import ExecutionConfig
from tradebot.execution.submitter import recover_submitting, submit_intent
from tradebot.store import ledger, orders
from tradebot.store.db import transaction
from tradebot.store.execution import OrderSubmissionRow
from tradebot.store.trading import OrderIntentRow, OrderRow

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, NYSE regular session
NIGHT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PRE = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 07:00 New York: pre-market
RUN = "run-x"
FAST = ExecutionConfig(backoff_seconds=0, max_backoff_seconds=0, orders_per_second=1000)


@pytest.fixture
def paper(sessions) -> PaperBroker:
    with transaction(sessions) as s:
        ledger.ensure_run(s, RUN, "test", "paper", Decimal("100000"), OPEN - timedelta(days=1))
    b = PaperBroker(sessions, RUN, Decimal("100000"))
    b.open_account(OPEN - timedelta(days=1))
    return b


def intent(symbol="AAPL", side=Side.BUY, qty="5", leg="entry", **kw) -> OrderIntent:
    cid = make_client_order_id("test", symbol, "c1", leg)
    return OrderIntent(cid, "test", Symbol(symbol), side, Decimal(qty), OPEN, reference_price=Decimal("100"), **kw)


def submit(sessions, broker, it, now=OPEN, cfg=FAST):
    return submit_intent(sessions, RUN, broker, it, now, config=cfg, sleep=lambda _s: None)


def intent_status(sessions, cid) -> str:
    with sessions() as s:
        return s.scalar(select(OrderIntentRow.status).where(OrderIntentRow.client_order_id == cid))


def test_the_intent_is_committed_as_submitting_before_the_broker_is_called(sessions, paper):
    seen = []

    class Probe(ScriptedBroker):
        def submit_order(self, it, now):
            seen.append(intent_status(sessions, it.client_order_id))  # read from another connection: committed
            return super().submit_order(it, now)

    order = submit(sessions, Probe(paper), intent())
    assert seen == ["submitting"]
    assert order.status is OrderStatus.SUBMITTED and intent_status(sessions, order.client_order_id) == "sent"


def test_a_timeout_after_acceptance_is_resolved_by_lookup_without_a_second_order(sessions, paper):
    broker = ScriptedBroker(paper, submits=["accept_then_lost"])
    order = submit(sessions, broker, intent())
    assert order.status is OrderStatus.SUBMITTED and order.broker_order_id
    assert broker.log == ["submit", "lookup"] and broker.placed[order.client_order_id] == 1


def test_a_request_lost_before_reaching_the_broker_is_sent_again_after_a_lookup_finds_nothing(sessions, paper):
    broker = ScriptedBroker(paper, submits=["unavailable"])
    order = submit(sessions, broker, intent())
    assert broker.log == ["submit", "lookup", "submit"] and broker.placed[order.client_order_id] == 1
    with sessions() as s:
        sub = s.get(OrderSubmissionRow, order.client_order_id)
        assert (sub.state, sub.attempts, sub.lookups) == ("resolved", 2, 1) and "dropped" in sub.last_error


def test_a_duplicate_id_rejection_means_already_there_and_is_confirmed_by_lookup(sessions, paper):
    broker = ScriptedBroker(paper, submits=["accept_then_lost", "duplicate_check"], lookups=["miss"])
    order = submit(sessions, broker, intent())
    assert broker.log == ["submit", "lookup", "submit", "lookup"]
    assert order.status is OrderStatus.SUBMITTED and broker.placed[order.client_order_id] == 1


def test_an_outcome_still_unknown_after_the_attempts_stays_submitting_until_recovery(sessions, paper):
    broker = ScriptedBroker(paper, submits=["accept_then_lost"], lookups=["unavailable"] * 3)
    it = intent()
    with pytest.raises(BrokerUnavailable, match="stays submitting"):
        submit(sessions, broker, it, cfg=FAST.model_copy(update={"submit_attempts": 3}))
    assert intent_status(sessions, it.client_order_id) == "submitting"
    [order] = recover_submitting(sessions, RUN, broker, OPEN, config=FAST)
    assert order.client_order_id == it.client_order_id and order.status is OrderStatus.SUBMITTED
    assert broker.calls["submit"] == 1 and broker.placed[it.client_order_id] == 1
    assert intent_status(sessions, it.client_order_id) == "sent"


def test_an_order_placed_just_before_a_crash_is_found_by_lookup_on_restart(sessions, paper):
    it = intent()
    with transaction(sessions) as s:
        orders.begin_submission(s, RUN, "scripted", it, OPEN)
    paper.submit_order(it, OPEN)  # reached the broker; the process died before recording the answer
    broker = ScriptedBroker(paper)
    [order] = recover_submitting(sessions, RUN, broker, OPEN + timedelta(minutes=1), config=FAST)
    assert broker.log == ["lookup"] and order.status is OrderStatus.SUBMITTED
    with sessions() as s:
        assert s.scalar(select(OrderRow.status).where(OrderRow.client_order_id == it.client_order_id)) == "submitted"


def test_an_intent_the_crash_kept_from_the_broker_is_sent_once_on_restart(sessions, paper):
    it = intent()
    with transaction(sessions) as s:
        orders.begin_submission(s, RUN, "scripted", it, OPEN)
    broker = ScriptedBroker(paper)
    [order] = recover_submitting(sessions, RUN, broker, OPEN + timedelta(minutes=1), config=FAST)
    assert broker.log == ["lookup", "submit"] and broker.placed[order.client_order_id] == 1
    assert recover_submitting(sessions, RUN, broker, OPEN + timedelta(minutes=2), config=FAST) == []


def test_a_stale_intent_left_submitting_is_abandoned_with_the_reason_instead_of_sent(sessions, paper):
    it = intent()
    with transaction(sessions) as s:
        orders.begin_submission(s, RUN, "scripted", it, OPEN)
    broker = ScriptedBroker(paper)
    [order] = recover_submitting(sessions, RUN, broker, OPEN + timedelta(hours=2), config=FAST)
    assert broker.calls["submit"] == 0 and order.status is OrderStatus.EXPIRED
    assert "resubmit_within_minutes" in order.reject_reason and intent_status(sessions, it.client_order_id) == \
        "abandoned"


def test_a_stock_order_while_nyse_is_closed_is_refused_with_the_reason_before_any_network_call(sessions, paper):
    broker = ScriptedBroker(paper)
    order = submit(sessions, broker, intent(), now=NIGHT)
    assert broker.log == [] and order.status is OrderStatus.REJECTED
    assert order.reject_reason.startswith("market closed: NYSE is closed") and "opens 2026-11-24T14:30" in \
        order.reject_reason
    assert intent_status(sessions, order.client_order_id) == "refused"


def test_crypto_orders_go_out_around_the_clock(sessions, paper):
    order = submit(sessions, ScriptedBroker(paper), intent("BTC/USD", qty="0.1"), now=NIGHT)
    assert order.status is OrderStatus.SUBMITTED


def test_pre_market_orders_need_both_the_config_switch_and_the_orders_own_flag(sessions, paper):
    broker = ScriptedBroker(paper)
    off = submit(sessions, broker, intent(leg="a", extended_hours=True, order_type=OrderType.LIMIT,
                                          limit_price=Decimal("99")), now=PRE)
    assert off.status is OrderStatus.REJECTED and "extended_hours is off" in off.reject_reason
    on = FAST.model_copy(update={"extended_hours": True})
    unflagged = submit(sessions, broker, intent(leg="b"), now=PRE, cfg=on)
    assert unflagged.status is OrderStatus.REJECTED and "does not ask for extended hours" in unflagged.reject_reason
    flagged = submit(sessions, broker, intent(leg="c", extended_hours=True, order_type=OrderType.LIMIT,
                                              limit_price=Decimal("99")), now=PRE, cfg=on)
    assert flagged.status is OrderStatus.SUBMITTED


def test_the_market_gate_can_be_left_to_a_simulated_broker_that_fills_at_the_next_open(sessions, paper):
    order = submit_intent(sessions, RUN, paper, intent(), NIGHT, config=FAST, enforce_hours=False)
    assert order.status is OrderStatus.SUBMITTED


def test_a_refusal_sent_as_an_error_is_recorded_with_the_brokers_message(sessions, paper):
    order = submit(sessions, ScriptedBroker(paper, submits=["refuse"]), intent())
    assert order.status is OrderStatus.REJECTED
    assert order.reject_reason == "scripted: account is restricted from trading"


def test_a_rejected_order_keeps_the_brokers_reason_in_the_ledger(sessions, paper):
    order = submit(sessions, ScriptedBroker(paper), intent(side=Side.SELL))
    assert order.status is OrderStatus.REJECTED and "short selling disabled" in order.reject_reason
    with sessions() as s:
        row = s.scalar(select(OrderRow).where(OrderRow.client_order_id == order.client_order_id))
        assert row.status == "rejected" and "short selling disabled" in row.reject_reason


def test_submitting_the_same_intent_again_returns_the_recorded_order_without_a_call(sessions, paper):
    broker = ScriptedBroker(paper)
    first = submit(sessions, broker, intent())
    again = submit(sessions, broker, intent())
    assert again.broker_order_id == first.broker_order_id and broker.calls["submit"] == 1


def test_an_intent_blocked_by_risk_cannot_be_submitted(sessions, paper):
    from tradebot.domain import RiskDecision, Verdict

    it = intent()
    with transaction(sessions) as s:
        ledger.record_proposal(s, RUN, "c1", it, RiskDecision(it.client_order_id, Verdict.REJECTED, it.qty,
                                                               Decimal(0), ("no",)), None, OPEN)
    with pytest.raises(ValueError, match="blocked by risk"):
        submit(sessions, ScriptedBroker(paper), it)


def test_an_intent_round_trips_through_its_stored_payload_exactly():
    from tradebot.domain import Protection, TimeInForce

    it = OrderIntent(ClientOrderId("x"), "s", Symbol("AAPL"), Side.BUY, Decimal("1.5"), OPEN,
                     order_type=OrderType.STOP_LIMIT, limit_price=Decimal("10.01"), stop_price=Decimal("10"),
                     time_in_force=TimeInForce.GTC, protection=Protection(Decimal("9"), Decimal("12")),
                     extended_hours=True)
    assert orders.intent_from_payload(orders.intent_payload(it)) == it


def test_the_built_in_paper_broker_is_not_gated_by_default_since_it_fills_at_the_next_open(sessions, paper):
    assert submit_intent(sessions, RUN, paper, intent(), NIGHT, config=FAST).status is OrderStatus.SUBMITTED
    gated = submit_intent(sessions, RUN, paper, intent(leg="b"), NIGHT, config=FAST, enforce_hours=True)
    assert gated.status is OrderStatus.REJECTED and gated.reject_reason.startswith("market closed")
