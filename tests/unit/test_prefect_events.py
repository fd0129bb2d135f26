"""Typed Prefect events: names, resources and payloads the triggers and automations rely on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tradebot import prefect_events as ev


def test_each_payload_names_its_event_and_a_tradebot_resource():
    cases = [
        (ev.PricesIngested(assets="stocks", timeframe="1Day", rows=3, quarantined=1, symbols=("AAPL",),
                           end=datetime(2026, 11, 24, 21, tzinfo=UTC)),
         "tradebot.prices.ingested", "tradebot.prices.stocks"),
        (ev.EarningsReleased(symbol="AAPL", day=date(2026, 11, 24), eps_actual=1.5, eps_estimate=1.4),
         "tradebot.earnings.released", "tradebot.earnings.AAPL"),
        (ev.OrderUnknown(client_order_id="tb-1", symbol="MSFT", run_id="paper-main"), "tradebot.order.unknown",
         "tradebot.order.tb-1"),
        (ev.StopHit(symbol="BTC/USD", stop_price=Decimal("1"), last_price=Decimal("0.9")), "tradebot.stop.triggered",
         "tradebot.stop.BTC/USD"),
        (ev.KillSwitchChanged(engaged=True, actor="ops"), "tradebot.kill_switch.on", "tradebot.kill-switch"),
        (ev.KillSwitchChanged(engaged=False, actor="ops"), "tradebot.kill_switch.off", "tradebot.kill-switch"),
    ]
    for payload, name, resource in cases:
        assert payload.event_name() == name
        assert payload.resource()["prefect.resource.id"] == resource
        assert payload.model_dump(mode="json")  # JSON-able: it travels in the event


def test_payloads_refuse_bad_values_with_the_field_named():
    with pytest.raises(ValidationError, match="rows"):
        ev.PricesIngested(timeframe="1Day", rows=-1, quarantined=0, end=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="surprize"):
        ev.EarningsReleased(symbol="AAPL", day=date(2026, 1, 1), eps_actual=1.0, surprize=0.1)


def test_the_kill_switch_event_is_not_sent_without_a_prefect_server():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert ev.kill_switch_changed(True, "ops", "drill") is None
