"""Entries carry their broker-side stop; an exit first clears the protection that reserves the held quantity."""

import time
from datetime import UTC, datetime
from decimal import Decimal

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.domain import (
    OrderIntent,
    OrderStatus,
    Protection,
    RiskDecision,
    Side,
    Symbol,
    Verdict,
    make_client_order_id,
)
from tradebot.execution.protection import cancel_protection, protect_entries
from tradebot.store.db import transaction
from tradebot.store.ledger import ensure_run, pending_intents, record_proposal

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
KEY, SECRET = "AKPROTECT0001", "protect-secret-value"
AAPL = Symbol("AAPL")


def _intent(leg: str, side: Side, qty: str, **kw) -> OrderIntent:
    return OrderIntent(make_client_order_id("test", "AAPL", "c1", leg), "test", AAPL, side, Decimal(qty), NOW, **kw)


def test_entries_get_their_stop_and_target_while_exits_and_unlevelled_symbols_go_bare():
    levels = {AAPL: (Decimal("180"), Decimal("210"))}
    buy, sell = _intent("a", Side.BUY, "5"), _intent("b", Side.SELL, "5")
    fresh, adding = protect_entries([buy], {}, levels), protect_entries([buy], {AAPL: Decimal("3")}, levels)
    assert fresh[0].protection == Protection(Decimal("180"), Decimal("210")) == adding[0].protection
    assert protect_entries([sell], {AAPL: Decimal("5")}, levels)[0].protection is None
    assert protect_entries([buy], {}, {})[0].protection is None


def test_an_intents_protection_survives_the_ledger_round_trip(sessions):
    intent = _intent("p", Side.BUY, "5", protection=Protection(Decimal("180.5"), Decimal("210.25")))
    with transaction(sessions) as s:
        ensure_run(s, "acct", "paper", "alpaca-paper", Decimal("1000"), NOW)
        decision = RiskDecision(intent.client_order_id, Verdict.ACCEPTED, Decimal("5"), Decimal("5"), ("ok",))
        record_proposal(s, "acct", "c1", intent, decision, None, NOW)
    with sessions() as s:
        (back,) = pending_intents(s, "acct")
    assert back.protection == intent.protection


def test_an_exit_of_a_bracketed_holding_goes_through_once_its_stop_is_cancelled():
    with FakeAlpacaTradingServer(KEY, SECRET, cash=Decimal("100000"), max_lifetime=60) as fake:
        fake.set_price("AAPL", "190")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=2.0)
        entry = _intent("entry", Side.BUY, "10", protection=Protection(Decimal("180"), Decimal("210")))
        broker.submit_order(entry, NOW)
        _wait_filled(broker, entry.client_order_id)
        assert any(o.order_type.value == "stop" for o in broker.open_orders())
        # The stop leg holds the 10 shares: a bare sell is refused, as Alpaca refuses it.
        refused = broker.submit_order(_intent("exit-1", Side.SELL, "10"), NOW)
        assert refused.status is OrderStatus.REJECTED and "insufficient qty" in refused.reject_reason
        legs = {o.client_order_id for o in broker.open_orders()}
        assert set(cancel_protection(broker, "AAPL", Side.SELL, NOW)) == legs and len(legs) == 2
        exit_ = _intent("exit-2", Side.SELL, "10")
        assert broker.submit_order(exit_, NOW).status is not OrderStatus.REJECTED
        _wait_filled(broker, exit_.client_order_id)
        assert not broker.open_orders() and not broker.positions()


def _wait_filled(broker, cid) -> None:
    deadline = time.monotonic() + 10
    while broker.get_order(cid).status is not OrderStatus.FILLED:
        assert time.monotonic() < deadline, f"{cid} never filled"
        time.sleep(0.02)
