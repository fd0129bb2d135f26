"""Persisted risk inputs: closed round trips per strategy, stop levels and the risk state."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradebot.domain import (
    ClientOrderId,
    Fill,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    RiskDecision,
    Side,
    Symbol,
    Verdict,
)
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.risk_state import closed_trade_returns, load_risk_state, load_stops, save_risk_state, save_stops

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _trade(s, cid, strategy, side, qty, price, ts, commission="0"):
    intent = OrderIntent(ClientOrderId(cid), strategy, Symbol("AAA"), side, Decimal(qty), ts)
    ledger.record_proposal(s, "r", "c", intent, RiskDecision(intent.client_order_id, Verdict.ACCEPTED,
                                                             Decimal(qty), Decimal(qty), ()), None, ts)
    ledger.upsert_order(s, "r", "paper", Order(intent.client_order_id, Symbol("AAA"), side, Decimal(qty),
                                               OrderType.MARKET, OrderStatus.FILLED, ts), ts)
    ledger.record_fills(s, "r", [Fill(f"f-{cid}", intent.client_order_id, Symbol("AAA"), side, Decimal(qty),
                                      Decimal(price), Decimal(commission), ts)])


def test_round_trips_are_attributed_to_the_opening_strategy_with_fees(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, "r", "replay", "paper", Decimal("1000"), T0)
        _trade(s, "a", "news", Side.BUY, "10", "10", T0, "1")
        _trade(s, "b", "tech", Side.SELL, "10", "12", T0 + timedelta(days=1), "1")  # closes news' trade
        _trade(s, "c", "tech", Side.BUY, "5", "20", T0 + timedelta(days=2))
        _trade(s, "d", "news", Side.SELL, "5", "18", T0 + timedelta(days=3))
        _trade(s, "e", "news", Side.BUY, "1", "5", T0 + timedelta(days=4))  # still open: not a closed trade
    with sessions() as s:
        out = closed_trade_returns(s, "r")
    assert out["news"] == [pytest.approx((120 - 1) / (100 + 1) - 1)]
    assert out["tech"] == [pytest.approx(90 / 100 - 1)]


def test_stop_levels_replace_per_run_and_closed_symbols_disappear(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, "r", "replay", "paper", Decimal("1000"), T0)
        save_stops(s, "r", {"AAA": {"stop": "9.5", "take_profit": "12"}, "BBB": {"stop": "1"}}, T0)
    with transaction(sessions) as s:
        save_stops(s, "r", {"AAA": {"stop": "9.8", "take_profit": "12"}}, T0)
    with sessions() as s:
        assert load_stops(s, "r") == {"AAA": {"stop": "9.8", "take_profit": "12"}}


def test_risk_state_round_trips(sessions):
    with transaction(sessions) as s:
        ledger.ensure_run(s, "r", "replay", "paper", Decimal("1000"), T0)
        assert load_risk_state(s, "r") is None
        save_risk_state(s, "r", {"halted": True, "day": "2026-03-02"}, T0)
    with sessions() as s:
        assert load_risk_state(s, "r") == {"halted": True, "day": "2026-03-02"}
