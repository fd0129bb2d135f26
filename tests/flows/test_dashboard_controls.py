"""Dashboard login and controls: rate-limited audited logins, session timeout, confirmations, roles enforced
by the commands module (a viewer pressing a disabled button is still refused), audit before/after."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.flows.dashboard_helpers import add_users, copy_ledger, login, page, start
from tradebot.store.db import make_engine, session_factory
from tradebot.store.ops import AlertRow, AuditRow
from tradebot.store.users import LoginAttemptRow


@pytest.fixture
def ctl(replayed, tmp_path, monkeypatch):
    """A writable copy of the replayed ledger with users; the standing account is the latest replay's."""
    url = copy_ledger(replayed[0], tmp_path / "ledger.db")
    add_users(url)
    monkeypatch.setenv("TRADEBOT_PAPER__ACCOUNT", replayed[2]["run_id"])
    return url, session_factory(make_engine(url)), replayed[2]["run_id"]


def _audit(sessions, prefix: str):
    with sessions() as s:
        return s.scalars(select(AuditRow).where(AuditRow.action.startswith(prefix)).order_by(AuditRow.id)).all()


def _ask_and_confirm(at, key: str):
    at.button(key=f"{key}-ask").click().run()
    assert any("?" in w.value for w in at.warning), "a confirmation question is shown first"
    return at.button(key=f"{key}-yes").click().run()


def test_wrong_passwords_are_refused_counted_audited_and_then_rate_limited(ctl, monkeypatch):
    url, sessions, _ = ctl
    at = start(url, monkeypatch, TRADEBOT_DASHBOARD__MAX_FAILED_LOGINS="3")
    for _ in range(3):
        login(at, "tina", "not my password")
        assert "wrong name or password" in at.error[0].value and not at.sidebar.button
    login(at, "tina")  # the right password, but locked out now
    assert "too many failed logins for 'tina'" in at.error[0].value and not at.sidebar.button
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttemptRow).where(LoginAttemptRow.name == "tina")) == 4
    assert [a.action for a in _audit(sessions, "auth.")] == ["auth.login_failed"] * 3 + ["auth.login_locked"]


def test_an_idle_session_times_out_back_to_the_login_page(ctl, monkeypatch):
    url, _, _ = ctl
    at = login(start(url, monkeypatch, TRADEBOT_DASHBOARD__SESSION_TIMEOUT_MINUTES="30"), "vera")
    assert at.title[0].value == "Overview"
    at.session_state["auth"]["last_seen"] = datetime.now(UTC) - timedelta(minutes=31)
    at.run()
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert "timed out" in at.info[0].value and not at.metric


def _forge_role(at, role: str):
    """Pretend the UI believed a higher role (a bug or tampered session): only the command stands in the way."""
    at.session_state["auth"]["role"] = role
    return at.run()


def test_a_viewer_who_gets_past_the_disabled_pause_button_is_refused_by_the_commands_module(ctl, monkeypatch):
    from tradebot.commands import trading_status

    url, sessions, _ = ctl
    at = page(login(start(url, monkeypatch), "vera"), "views/controls.py")
    assert at.button(key="pause-ask").disabled  # the hint...
    _forge_role(at, "trader")
    assert not at.button(key="pause-ask").disabled
    _ask_and_confirm(at, "pause")  # ...but the command re-reads vera's stored role and refuses
    assert "permission denied: vera is a viewer and trading.pause needs the trader role" in at.error[0].value
    assert trading_status(sessions).paused is False and _audit(sessions, "trading.") == []


def test_a_trader_pauses_only_after_confirming_and_the_audit_log_shows_before_and_after(ctl, monkeypatch):
    from tradebot.commands import trading_status

    url, sessions, _ = ctl
    at = page(login(start(url, monkeypatch), "tina"), "views/controls.py")
    at.text_input(key="switch-reason").input("news storm").run()
    at.button(key="pause-ask").click().run()
    assert trading_status(sessions).paused is False  # asked, not yet confirmed
    at.button(key="pause-yes").click().run()
    assert "trading paused by tina" in at.success[0].value
    assert trading_status(sessions).paused is True
    with sessions() as s:
        assert s.scalar(select(AlertRow.key).where(AlertRow.kind == "kill_switch")) == "kill_switch:engaged"
    [entry] = _audit(sessions, "trading.")
    assert (entry.actor, entry.before, entry.after, entry.reason) == (
        "tina (trader, dashboard)", {"paused": False}, {"paused": True}, "news storm")
    page(at, "views/controls.py")
    at.button(key="resume-ask").click().run()
    at.button(key="resume-no").click().run()
    assert trading_status(sessions).paused is True and "Cancelled" in at.info[-1].value
    page(at, "views/audit.py")
    assert "trading.pause" in set(at.dataframe[0].value["action"])
    page(at, "views/overview.py")
    assert "Kill switch ON" in at.error[0].value


def test_an_admin_edits_a_limit_within_bounds_and_an_out_of_bounds_value_is_refused_naming_the_bound(
        ctl, monkeypatch):
    from tradebot.commands import apply_risk_overrides
    from tradebot.config import load_settings

    url, sessions, _ = ctl
    at = page(login(start(url, monkeypatch), "adam"), "views/controls.py")
    at.selectbox(key="limit-key").select("max_position_weight").run()
    at.text_input(key="limit-value-max_position_weight").input("1.5").run()
    _ask_and_confirm(at, "limits")
    assert "risk.max_position_weight = '1.5' is invalid: Input should be less than or equal to 1" in at.error[0].value
    at.text_input(key="limit-value-max_position_weight").input("0.1").run()
    _ask_and_confirm(at, "limits")
    assert "risk.max_position_weight is now 0.1" in at.success[0].value
    assert apply_risk_overrides(load_settings(), sessions).risk.max_position_weight == 0.1
    [entry] = _audit(sessions, "risk.")
    assert (entry.before, entry.after) == ({"max_position_weight": 0.15}, {"max_position_weight": 0.1})


def test_a_trader_cannot_edit_limits_and_does_not_see_the_users_page(ctl, monkeypatch):
    url, sessions, _ = ctl
    at = page(login(start(url, monkeypatch), "tina"), "views/controls.py")
    assert at.button(key="limits-ask").disabled
    _forge_role(at, "admin")
    _ask_and_confirm(at, "limits")
    assert "risk.limits.set needs the admin role" in at.error[0].value and _audit(sessions, "risk.") == []
    at.session_state["auth"]["role"] = "trader"
    at.run()
    with pytest.raises(ValueError):
        at.switch_page("views/users.py")


def test_a_trader_flattens_a_position_and_cancels_the_working_orders(ctl, monkeypatch):
    from tradebot.store import ledger

    url, sessions, account = ctl
    at = page(login(start(url, monkeypatch), "tina"), "views/controls.py")
    symbol = at.selectbox(key="flatten-symbol").value
    _ask_and_confirm(at, "flatten")
    assert f"{symbol} at market" in at.success[0].value
    with sessions() as s:
        pending = [i for i in ledger.pending_intents(s, account) if i.strategy == "manual"]
        working = ledger.open_orders(s, account)
    assert [p.symbol for p in pending] == [symbol]
    [entry] = _audit(sessions, "position.")
    assert entry.target == f"{account}/{symbol}" and entry.after["client_order_id"] == pending[0].client_order_id
    _ask_and_confirm(at, "cancel")
    with sessions() as s:
        assert ledger.open_orders(s, account) == []
    outcome = _audit(sessions, "orders.")[0]
    assert set(outcome.before) == set(working) and set(outcome.after.values()) <= {"canceled"}


def test_a_trader_triggers_a_deployment_run_without_waiting_for_it(ctl, monkeypatch):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    @flow(name="dash_noop")
    def dash_noop(x: int = 1) -> int:
        return x

    dash_noop.to_deployment(name="manual").apply()
    url, sessions, _ = ctl
    at = start(url, monkeypatch, PREFECT_API_URL=str(get_current_settings().api.url))
    at = page(login(at, "tina"), "views/controls.py")
    at.selectbox(key="flow-deployment").select("dash_noop/manual").run()
    at.text_area(key="flow-params").input('{"x": 5}').run()
    _ask_and_confirm(at, "trigger")
    assert "scheduled for dash_noop/manual" in at.success[0].value
    [entry] = _audit(sessions, "flow.")
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(entry.after["flow_run_id"])
    assert run.parameters == {"x": 5} and "by:tina" in run.tags


def test_an_admin_adds_a_user_who_can_then_log_in(ctl, monkeypatch):
    from tradebot.commands import list_users

    url, sessions, _ = ctl
    at = page(login(start(url, monkeypatch), "adam"), "views/users.py")
    at.text_input(key="user-name").input("olga")
    at.selectbox(key="user-role").select("trader")
    at.text_input(key="user-pw1").input("olga password 1")
    at.text_input(key="user-pw2").input("olga password 2").run()
    _ask_and_confirm(at, "user-add")
    assert "differ" in at.error[0].value
    at.text_input(key="user-pw2").input("olga password 1").run()
    _ask_and_confirm(at, "user-add")
    assert "user olga added as trader" in at.success[0].value
    assert {"name": "olga", "role": "trader"}.items() <= next(u for u in list_users(sessions)
                                                              if u["name"] == "olga").items()
    olga = login(start(url, monkeypatch), "olga", "olga password 1")
    assert olga.sidebar.markdown[0].value == "**olga** · trader"
    page(at, "views/users.py")
    at.selectbox(key="user-who").select("olga")
    at.selectbox(key="user-new-role").select("viewer").run()
    _ask_and_confirm(at, "user-role")
    assert any("olga is now viewer" in m.value for m in at.success)
    page(olga, "views/controls.py")  # her open session still shows trader buttons...
    _ask_and_confirm(olga, "pause")  # ...but the command reads her stored role
    assert "olga is a viewer and trading.pause needs the trader role" in olga.error[0].value
    _ask_and_confirm(at, "user-disable")
    assert any("olga disabled" in m.value for m in at.success)
    from dashboard.common import invalidate

    invalidate()  # skip the 5 s read cache instead of waiting it out
    olga.run()
    assert [t.label for t in olga.text_input] == ["User name", "Password"]
    assert "disabled" in olga.info[0].value
