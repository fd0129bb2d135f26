"""The reconcile_positions flow: converges the standing account, alerts on every drift item, returns a summary."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

T = datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_the_reconcile_flow_fixes_drift_alerts_on_each_item_and_a_second_run_finds_none(tmp_path):
    from flows.reconcile_positions import reconcile_positions
    from tradebot.adapters.paper import PaperBroker, Quote
    from tradebot.domain import ClientOrderId, OrderIntent, Side, Symbol
    from tradebot.execution.submitter import submit_intent
    from tradebot.store import ledger
    from tradebot.store.db import open_ledger, transaction
    from tradebot.store.ops import AlertRow

    home = tmp_path / "home"
    sessions = open_ledger(f"sqlite:///{home / 'ledger.db'}")
    with transaction(sessions) as s:
        ledger.ensure_run(s, "acct", "paper", "paper", Decimal("100000"), T)
    paper = PaperBroker(sessions, "acct", Decimal("100000"))
    paper.open_account(T)
    submit_intent(sessions, "acct", paper, OrderIntent(ClientOrderId("a"), "test", Symbol("AAPL"), Side.BUY,
                                                       Decimal("10"), T, reference_price=Decimal("100")), T)
    paper.on_quotes({"AAPL": Quote.at(T + timedelta(hours=1), Decimal("100"))})  # filled; the ledger was not told

    overrides = {"home": str(home)}
    first = reconcile_positions(run_id="acct", now=T + timedelta(hours=2), overrides=overrides)
    assert first["by_kind"] == {"order_status": 1, "missing_fill": 1} and first["fixed"] == 2
    assert first["alerts"] == 2
    with sessions() as s:
        assert set(s.scalars(select(AlertRow.kind))) == {"reconciliation_drift"}
    second = reconcile_positions(run_id="acct", now=T + timedelta(hours=3), overrides=overrides)
    assert second["drift"] == 0 and second["alerts"] == 0
