"""The flows behind events: price ingestion per asset class, earnings handling, and the alert flows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tradebot.domain import EarningsEvent, EarningsHour, Symbol
from tradebot.prefect_events import new_releases
from tradebot.store.db import open_ledger
from tradebot.store.ops import AlertRow

NOW = datetime(2026, 10, 29, 21, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path):
    return {"home": str(tmp_path / "home")}


def _alerts(overrides: dict, kind: str) -> list[AlertRow]:
    from tradebot.config import load_settings

    sessions = open_ledger(load_settings(**overrides).ledger_url)
    with sessions() as s:
        return list(s.scalars(select(AlertRow).where(AlertRow.kind == kind)))


def _event(symbol: str, day: date, actual: float | None) -> EarningsEvent:
    return EarningsEvent(symbol=Symbol(symbol), date=day, hour=EarningsHour("amc"), eps_estimate=1.0,
                         eps_actual=actual)


def test_only_reports_that_just_gained_an_actual_count_as_released():
    before = [_event("AAPL", date(2026, 10, 28), None), _event("MSFT", date(2026, 10, 27), 2.0)]
    after = [_event("AAPL", date(2026, 10, 28), 1.3), _event("MSFT", date(2026, 10, 27), 2.0),
             _event("KO", date(2026, 9, 1), 0.7), _event("JPM", date(2026, 10, 30), None)]
    assert [e.symbol for e in new_releases(before, after, since=date(2026, 10, 26))] == ["AAPL"]


def test_crypto_ingestion_stores_only_crypto_and_announces_new_bars_once(home):
    from flows.ingest_prices import ingest_prices

    first = ingest_prices(end=NOW, overrides=home, assets="crypto")
    assert first["new_symbols"] == ["BTC/USD", "ETH/USD"]
    again = ingest_prices(end=NOW, overrides=home, assets="crypto")
    assert again["new_symbols"] == []  # nothing new: no event, so no trade cycle


def test_an_earnings_release_runs_a_trade_cycle_for_the_portfolio(home):
    from flows.handle_earnings import handle_earnings

    out = handle_earnings(symbol="aapl", now=NOW, overrides=home)
    assert out["symbol"] == "AAPL" and out["earnings"]["events"] > 0
    assert out["cycle"]["cycle_id"].endswith("20261029T2100") and out["cycle"]["signals"] >= 0


def test_an_earnings_event_for_a_symbol_we_do_not_trade_is_skipped(home):
    from flows.handle_earnings import handle_earnings

    assert "not in the traded universe" in handle_earnings(symbol="ZZZZ", overrides=home)["skipped"]


def test_a_stop_event_becomes_a_stop_alert(home):
    from flows.notify_stop import notify_stop

    out = notify_stop(symbol="NVDA", stop_price=Decimal("101.5"), last_price=Decimal("100.9"), qty=Decimal("3"),
                      overrides=home)
    assert out["key"] == "stop_triggered:NVDA"
    (row,) = _alerts(home, "stop_triggered")
    assert "101.5" in row.message and "100.9" in row.message


def test_the_kill_switch_alert_is_built_from_the_event_payload(home):
    from flows.notify_alert import notify_alert

    notify_alert({"kind": "kill_switch", "engaged": True, "actor": "ops", "reason": "broker outage"}, overrides=home)
    (row,) = _alerts(home, "kill_switch")
    assert "broker outage" in row.message and "ops" in row.message


def test_a_failed_flow_run_is_described_from_the_prefect_api(home):
    from prefect import flow

    from flows.notify_alert import notify_alert

    @flow(name="doomed")
    def doomed() -> None:
        raise RuntimeError("disk on fire")

    state = doomed(return_state=True)
    assert state.is_failed()
    run_id = state.state_details.flow_run_id
    notify_alert({"kind": "flow_failure", "flow_run_id": f"prefect.flow-run.{run_id}"}, overrides=home)
    (row,) = _alerts(home, "flow_failure")
    assert "doomed" in row.message and "disk on fire" in row.message and str(run_id) in row.message


def test_an_alert_of_unknown_kind_is_refused():
    from pydantic import ValidationError

    from flows.notify_alert import notify_alert

    with pytest.raises(ValidationError):
        notify_alert.fn({"kind": "meteor_strike"})
