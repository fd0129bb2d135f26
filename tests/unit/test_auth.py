"""Authentication: argon2 hashes, role order, failed logins recorded, audited and rate limited, session timeout."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tradebot.auth import (
    Actor,
    AuthError,
    LoginFailed,
    LoginPolicy,
    LoginRateLimited,
    PermissionDenied,
    Role,
    authenticate,
    hash_password,
    require,
    session_expired,
    verify_password,
)
from tradebot.commands import add_user, cli_actor, set_user_disabled
from tradebot.store.ops import AuditRow
from tradebot.store.users import LoginAttemptRow, UserRow

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PW = "correct horse battery"


@pytest.fixture
def alice(sessions):
    add_user(sessions, cli_actor(), "alice", PW, "trader")
    return sessions


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_the_right_password():
    digest = hash_password(PW)
    assert digest.startswith("$argon2id$") and PW not in digest
    assert verify_password(digest, PW) and not verify_password(digest, PW + "x")
    assert not verify_password("not a hash", PW)


def test_a_short_password_is_refused_with_the_minimum_named():
    with pytest.raises(AuthError, match="at least 10 characters"):
        hash_password("short")


def test_roles_are_ordered_viewer_trader_admin_and_require_names_the_missing_role():
    assert Role.VIEWER.rank < Role.TRADER.rank < Role.ADMIN.rank
    require(Actor("a", Role.ADMIN), Role.TRADER, "x")
    with pytest.raises(PermissionDenied, match="bob is a viewer and trading.pause needs the trader role"):
        require(Actor("bob", Role.VIEWER), Role.TRADER, "trading.pause")
    with pytest.raises(AuthError, match="unknown role 'god'"):
        Role.parse("god")


def test_a_correct_login_returns_the_actor_records_last_login_and_audits_it(alice):
    actor = authenticate(alice, "Alice", PW, T0)
    assert actor == Actor("alice", Role.TRADER, "dashboard")
    with alice() as s:
        assert s.scalar(select(UserRow.last_login).where(UserRow.name == "alice")) == T0
        assert s.scalars(select(AuditRow.action)).all()[-1] == "auth.login"


def test_a_wrong_password_is_counted_and_audited_without_saying_whether_the_name_exists(alice):
    for name in ("alice", "mallory"):
        with pytest.raises(LoginFailed, match="wrong name or password") as exc:
            authenticate(alice, name, "wrong password!", T0)
        assert name not in str(exc.value)
    with alice() as s:
        attempts = s.execute(select(LoginAttemptRow.name, LoginAttemptRow.success)).all()
        audit = s.execute(select(AuditRow.actor, AuditRow.action).where(AuditRow.action.like("auth.%"))).all()
    assert attempts == [("alice", False), ("mallory", False)]
    assert audit == [("alice", "auth.login_failed"), ("mallory", "auth.login_failed")]


def test_failed_logins_lock_the_name_out_until_the_window_passes_even_with_the_right_password(alice):
    policy = LoginPolicy(max_failures=3, window=timedelta(minutes=15))
    for i in range(3):
        with pytest.raises(LoginFailed):
            authenticate(alice, "alice", "wrong password!", T0 + timedelta(seconds=i), policy)
    with pytest.raises(LoginRateLimited, match="too many failed logins for 'alice': try again in about 15 min"):
        authenticate(alice, "alice", PW, T0 + timedelta(seconds=10), policy)
    assert authenticate(alice, "alice", PW, T0 + timedelta(minutes=16), policy).name == "alice"
    with alice() as s:
        assert "auth.login_locked" in s.scalars(select(AuditRow.action)).all()


def test_the_lockout_is_shared_by_every_process_reading_the_same_ledger(alice, ledger_url):
    from tradebot.store.db import make_engine, session_factory

    other_process = session_factory(make_engine(ledger_url))
    policy = LoginPolicy(max_failures=2)
    for i in range(2):
        with pytest.raises(LoginFailed):
            authenticate(alice, "alice", "wrong password!", T0 + timedelta(seconds=i), policy)
    with pytest.raises(LoginRateLimited):
        authenticate(other_process, "alice", PW, T0 + timedelta(seconds=5), policy)


def test_a_success_resets_the_failure_count(alice):
    policy = LoginPolicy(max_failures=2)
    with pytest.raises(LoginFailed):
        authenticate(alice, "alice", "wrong password!", T0, policy)
    authenticate(alice, "alice", PW, T0 + timedelta(seconds=1), policy)
    with pytest.raises(LoginFailed):
        authenticate(alice, "alice", "wrong password!", T0 + timedelta(seconds=2), policy)
    assert authenticate(alice, "alice", PW, T0 + timedelta(seconds=3), policy).name == "alice"


def test_a_disabled_user_cannot_log_in(alice):
    set_user_disabled(alice, cli_actor(), "alice")
    with pytest.raises(LoginFailed):
        authenticate(alice, "alice", PW, T0)


def test_a_session_expires_after_the_idle_timeout():
    policy = LoginPolicy(session_timeout=timedelta(minutes=30))
    assert not session_expired(T0, T0 + timedelta(minutes=29), policy)
    assert session_expired(T0, T0 + timedelta(minutes=30), policy)
