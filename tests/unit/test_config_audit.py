"""A changed effective config is written to the hash-chained audit log once, with before/after, secrets masked."""

import json

from sqlalchemy import select

from tradebot.config import load_settings
from tradebot.config_audit import ACTION, record_config_change
from tradebot.store.audit import verify_chain
from tradebot.store.ops import AuditRow


def _entries(sessions):
    with sessions() as s:
        return s.scalars(select(AuditRow).where(AuditRow.action == ACTION).order_by(AuditRow.id)).all()


def test_the_first_config_is_recorded_and_an_unchanged_one_is_not_recorded_again(sessions):
    settings = load_settings(None)
    assert record_config_change(sessions, settings, actor="ops")
    assert record_config_change(sessions, load_settings(None), actor="ops") == {}
    (entry,) = _entries(sessions)
    assert entry.actor == "ops" and entry.before is None and "risk.max_daily_loss" in entry.after["snapshot"]


def test_a_changed_limit_is_audited_with_its_old_and_new_value(sessions):
    record_config_change(sessions, load_settings(None), actor="ops")
    changes = record_config_change(sessions, load_settings(None, risk={"max_daily_loss": 0.05}), actor="ana")
    assert changes == {"risk.max_daily_loss": ("0.03", "0.05")}
    last = _entries(sessions)[-1]
    assert last.actor == "ana"
    assert last.before == {"risk.max_daily_loss": "0.03"} and last.after["changed"] == {"risk.max_daily_loss": "0.05"}
    with sessions() as s:
        assert verify_chain(s).ok


def test_a_secret_in_the_config_is_recorded_only_as_set(sessions):
    secret = "canary-secret-value-123456"
    record_config_change(sessions, load_settings(None), actor="ops")
    changes = record_config_change(sessions, load_settings(None, alpaca={"secret_key": secret}), actor="ops")
    assert "alpaca.secret_key" in changes
    with sessions() as s:
        rows = s.scalars(select(AuditRow)).all()
    assert secret not in json.dumps([[r.before, r.after, r.reason] for r in rows])
