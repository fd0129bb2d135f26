"""Manual commands: persisted, permission-checked inside the command, audited with who/why/before/after."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tradebot.auth import Actor, PermissionDenied, Role
from tradebot.commands import (
    CommandError,
    add_user,
    apply_risk_overrides,
    cli_actor,
    flatten_position,
    pause_trading,
    resume_trading,
    set_risk_limits,
    set_user_disabled,
    set_user_role,
    trading_status,
)
from tradebot.config import RiskConfig, load_settings
from tradebot.domain import Fill, Side, Symbol
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.ops import AuditRow
from tradebot.store.trading import OrderIntentRow, RiskDecisionRow

ALICE = Actor("alice", Role.TRADER, "cli")
BOB = Actor("bob", Role.TRADER, "cli")
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _audit(sessions):
    with sessions() as s:
        return s.scalars(select(AuditRow).order_by(AuditRow.id)).all()


def test_the_switch_starts_off_then_persists_each_toggle_with_an_audit_entry(sessions):
    assert trading_status(sessions).paused is False
    pause_trading(sessions, ALICE, "volatility spike")
    assert trading_status(sessions).paused is True
    resume_trading(sessions, BOB, "calm again")
    st = trading_status(sessions)
    assert (st.paused, st.actor, st.reason) == (False, "bob", "calm again")
    assert [(a.actor, a.action, a.before, a.after, a.reason) for a in _audit(sessions)] == [
        ("alice (trader, cli)", "trading.pause", {"paused": False}, {"paused": True}, "volatility spike"),
        ("bob (trader, cli)", "trading.resume", {"paused": True}, {"paused": False}, "calm again"),
    ]


def test_an_actor_is_required(sessions):
    with pytest.raises(ValueError, match="actor is required"):
        pause_trading(sessions, Actor(" ", Role.ADMIN, "cli"), "x")


def test_a_viewer_is_refused_by_the_command_itself_and_nothing_changes(sessions):
    add_user(sessions, cli_actor(), "vera", "viewer password", "viewer")
    with pytest.raises(PermissionDenied, match="vera is a viewer and trading.pause needs the trader role"):
        pause_trading(sessions, Actor("vera", Role.VIEWER), "let me")
    assert trading_status(sessions).paused is False


def test_a_dashboard_session_claiming_more_than_its_stored_role_gets_the_stored_role(sessions):
    add_user(sessions, cli_actor(), "vera", "viewer password", "viewer")
    with pytest.raises(PermissionDenied, match="vera is a viewer"):
        pause_trading(sessions, Actor("vera", Role.ADMIN, "dashboard"), "forged session")


def test_a_disabled_or_demoted_user_loses_the_power_at_once(sessions):
    add_user(sessions, cli_actor(), "tom", "trader password", "trader")
    tom = Actor("tom", Role.TRADER)
    pause_trading(sessions, tom, "ok")
    set_user_role(sessions, cli_actor(), "tom", "viewer")
    with pytest.raises(PermissionDenied, match="tom is a viewer"):
        resume_trading(sessions, tom, "no longer allowed")
    set_user_disabled(sessions, cli_actor(), "tom")
    with pytest.raises(PermissionDenied, match="disabled or no longer exists"):
        resume_trading(sessions, tom, "no longer allowed")


def test_user_management_needs_an_admin_and_is_audited_without_the_hash(sessions):
    with pytest.raises(PermissionDenied, match="users.add needs the admin role"):
        add_user(sessions, ALICE, "eve", "some password", "viewer")
    add_user(sessions, cli_actor(), "eve", "some password", "viewer")
    set_user_role(sessions, cli_actor(), "eve", "trader")
    entries = [(a.action, a.target, a.before, a.after) for a in _audit(sessions)]
    assert entries == [("users.add", "eve", None, {"role": "viewer", "disabled": False}),
                       ("users.set_role", "eve", {"role": "viewer"}, {"role": "trader"})]
    assert "argon2" not in repr(_audit(sessions)[0].after)


def test_an_admin_changes_a_limit_within_bounds_and_the_runtime_settings_pick_it_up(sessions):
    base = RiskConfig()
    after = set_risk_limits(sessions, cli_actor(), base, {"max_position_weight": "0.1"}, "smaller bets")
    assert after.max_position_weight == 0.1
    assert apply_risk_overrides(load_settings(), sessions).risk.max_position_weight == 0.1
    entry = _audit(sessions)[-1]
    assert (entry.action, entry.before, entry.after) == ("risk.limits.set", {"max_position_weight": 0.15},
                                                         {"max_position_weight": 0.1})
    set_risk_limits(sessions, cli_actor(), base, {"max_position_weight": 0.15})
    assert apply_risk_overrides(load_settings(), sessions).risk.max_position_weight == 0.15


def test_an_out_of_bounds_limit_is_refused_naming_the_key_and_the_bound(sessions):
    with pytest.raises(CommandError, match=r"risk.max_position_weight = '1.5' is invalid: .*less than or equal to 1"):
        set_risk_limits(sessions, cli_actor(), RiskConfig(), {"max_position_weight": "1.5"})
    with pytest.raises(CommandError, match="unknown risk limit.*max_leverage"):
        set_risk_limits(sessions, cli_actor(), RiskConfig(), {"max_leverage": "3"})
    assert apply_risk_overrides(load_settings(), sessions).risk == RiskConfig()


def test_a_trader_cannot_edit_limits(sessions):
    with pytest.raises(PermissionDenied, match="risk.limits.set needs the admin role"):
        set_risk_limits(sessions, ALICE, RiskConfig(), {"max_position_weight": "0.1"})


def _hold(sessions, qty: str) -> None:
    from tradebot.domain import OrderIntent, RiskDecision, Verdict

    cid = "tb-entry"
    intent = OrderIntent(cid, "sma_cross", Symbol("AAPL"), Side.BUY, Decimal(qty), T0)
    with transaction(sessions) as s:
        ledger.ensure_run(s, "acct", "paper", "paper", Decimal("100000"), T0)
        ledger.record_proposal(s, "acct", "c1", intent, RiskDecision(cid, Verdict.ACCEPTED, Decimal(qty),
                                                                     Decimal(qty), ()), None, T0)
        from tradebot.domain import Order, OrderStatus, OrderType

        ledger.upsert_order(s, "acct", "paper", Order(cid, Symbol("AAPL"), Side.BUY, Decimal(qty), OrderType.MARKET,
                                                      OrderStatus.FILLED, T0, filled_qty=Decimal(qty)), T0)
        ledger.record_fills(s, "acct", [Fill("f1", cid, Symbol("AAPL"), Side.BUY, Decimal(qty), Decimal("100"),
                                             Decimal("0.1"), T0)])
        ledger.mark_intent_sent(s, cid)
        ledger.rebuild_positions(s, "acct", T0)


def test_flatten_writes_one_pending_market_exit_for_the_whole_position_however_often_it_is_clicked(sessions):
    _hold(sessions, "7")
    first = flatten_position(sessions, ALICE, "acct", "aapl", "risk off", T0)
    again = flatten_position(sessions, ALICE, "acct", "AAPL", "double click", T0)
    assert (first.side, first.qty, first.created) == ("sell", Decimal("7"), True)
    assert again.client_order_id == first.client_order_id and not again.created
    with sessions() as s:
        pending = ledger.pending_intents(s, "acct")
        reasons = s.scalar(select(RiskDecisionRow.reasons)
                           .where(RiskDecisionRow.client_order_id == first.client_order_id))
        assert s.scalar(select(OrderIntentRow.strategy).where(
            OrderIntentRow.client_order_id == first.client_order_id)) == "manual"
    assert [(p.client_order_id, p.side, p.qty) for p in pending] == [(first.client_order_id, Side.SELL, Decimal("7"))]
    assert reasons == ["manual flatten by alice: risk off"]
    assert _audit(sessions)[-2].before == {"qty": "7", "avg_price": "100.000000"}


def test_flatten_without_a_position_says_so(sessions):
    with pytest.raises(CommandError, match="no open position in MSFT"):
        flatten_position(sessions, ALICE, "acct", "MSFT", "x")


def test_audit_chain_verifies_and_names_an_edited_or_deleted_entry(sessions):
    from sqlalchemy import delete, update

    from tradebot.store.audit import verify_chain

    for i in range(4):
        toggle = pause_trading if i % 2 == 0 else resume_trading
        toggle(sessions, Actor(f"user{i}", Role.TRADER, "cli"), f"step {i}")
    with sessions() as s:
        assert verify_chain(s).ok and verify_chain(s).entries == 4
        ids = s.scalars(select(AuditRow.id).order_by(AuditRow.id)).all()
    with sessions.begin() as s:
        s.execute(update(AuditRow).where(AuditRow.id == ids[1]).values(reason="nothing to see"))
    with sessions() as s:
        report = verify_chain(s)
    assert not report.ok and report.first_broken_id == ids[1] and "edited" in report.problem
    with sessions.begin() as s:
        s.execute(update(AuditRow).where(AuditRow.id == ids[1]).values(reason="step 1"))
        s.execute(delete(AuditRow).where(AuditRow.id == ids[2]))
    with sessions() as s:
        report = verify_chain(s)
    assert not report.ok and report.first_broken_id == ids[3] and "deleted" in report.problem


def test_flatten_with_a_broker_sends_the_exit_now_through_the_exactly_once_path(sessions):
    from datetime import timedelta

    from tradebot.adapters.paper import PaperBroker, Quote
    from tradebot.domain import OrderIntent

    broker = PaperBroker(sessions, account="acct", initial_cash=Decimal("100000"))
    broker.open_account(T0 - timedelta(hours=2))
    with transaction(sessions) as s:
        ledger.ensure_run(s, "acct", "paper", "paper", Decimal("100000"), T0)
    buy = OrderIntent("tb-buy", "sma_cross", Symbol("AAPL"), Side.BUY, Decimal("7"), T0 - timedelta(hours=1))
    broker.submit_order(buy, T0 - timedelta(hours=1))
    broker.on_quotes({"AAPL": Quote.at(T0 - timedelta(minutes=30), Decimal("100"))})
    with transaction(sessions) as s:
        s.add(OrderIntentRow(client_order_id="tb-buy", run_id="acct", cycle_id="c0", strategy="sma_cross",
                             symbol="AAPL", side="buy", qty=Decimal("7"), order_type="market", status="sent",
                             created_at=T0))
        ledger.upsert_order(s, "acct", "paper", broker.get_order("tb-buy"), T0)
        ledger.record_fills(s, "acct", list(broker.fills_since(None)))
        ledger.rebuild_positions(s, "acct", T0)
    r = flatten_position(sessions, ALICE, "acct", "AAPL", "now", T0, broker=broker)
    assert (r.order_status, r.reject_reason) == ("submitted", "")
    assert broker.get_order(r.client_order_id) is not None
    with sessions() as s:
        assert ledger.pending_intents(s, "acct") == []
        assert ledger.open_orders(s, "acct") == [r.client_order_id]


def test_the_trade_cycle_runtime_uses_the_override_but_a_replay_keeps_the_configured_limits(sessions, ledger_url):
    from tasks.runtime import build_runtime

    settings = load_settings(database_url=ledger_url)
    set_risk_limits(sessions, cli_actor(), settings.risk, {"max_open_positions": "3"}, "fewer")
    live = build_runtime(settings, settings.paper.account, "paper", T0)
    replay = build_runtime(settings, "replay-x", "replay", T0)
    assert (live.settings.risk.max_open_positions, replay.settings.risk.max_open_positions) == (3, 8)
