"""Kill switch commands: persisted, audited with who/why/before/after, and they refuse an anonymous actor."""

import pytest
from sqlalchemy import select

from tradebot.commands import pause_trading, resume_trading, trading_status
from tradebot.store.ops import AuditRow


def test_the_switch_starts_off_then_persists_each_toggle_with_an_audit_entry(sessions):
    assert trading_status(sessions).paused is False
    pause_trading(sessions, "alice", "volatility spike")
    assert trading_status(sessions).paused is True
    resume_trading(sessions, "bob", "calm again")
    st = trading_status(sessions)
    assert (st.paused, st.actor, st.reason) == (False, "bob", "calm again")
    with sessions() as s:
        audit = s.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    assert [(a.actor, a.action, a.before, a.after, a.reason) for a in audit] == [
        ("alice", "trading.pause", {"paused": False}, {"paused": True}, "volatility spike"),
        ("bob", "trading.resume", {"paused": True}, {"paused": False}, "calm again"),
    ]


def test_an_actor_is_required(sessions):
    with pytest.raises(ValueError, match="actor is required"):
        pause_trading(sessions, " ", "x")


def test_audit_chain_verifies_and_names_an_edited_or_deleted_entry(sessions):
    from sqlalchemy import delete, update

    from tradebot.store.audit import verify_chain

    for i in range(4):
        (pause_trading if i % 2 == 0 else resume_trading)(sessions, f"user{i}", f"step {i}")
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
