"""Operational read views: data-quality results, quarantine, alerts, the audit log, users."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradebot.store.ops import AlertRow, AuditRow, DataQualityRow, QuarantineRow
from tradebot.store.users import RiskOverrideRow, UserRow
from tradebot.store.views import _frame


def quality_results(s: Session, limit: int = 500, failed_only: bool = False) -> pd.DataFrame:
    """Return the newest expectation results (optionally failures only)."""
    q = select(DataQualityRow.checked_at, DataQualityRow.batch, DataQualityRow.kind, DataQualityRow.expectation,
               DataQualityRow.column, DataQualityRow.success, DataQualityRow.unexpected_count,
               DataQualityRow.element_count, DataQualityRow.details)
    if failed_only:
        q = q.where(DataQualityRow.success.is_(False))
    return _frame(s, q.order_by(DataQualityRow.id.desc()).limit(limit),
                  ["checked_at", "batch", "kind", "expectation", "column", "success", "unexpected", "elements",
                   "details"])


def quarantine(s: Session, limit: int = 500) -> pd.DataFrame:
    """Return the newest quarantined rows with the expectations they failed."""
    q = (select(QuarantineRow.quarantined_at, QuarantineRow.batch, QuarantineRow.kind, QuarantineRow.symbol,
                QuarantineRow.failed, QuarantineRow.payload).order_by(QuarantineRow.id.desc()).limit(limit))
    df = _frame(s, q, ["quarantined_at", "batch", "kind", "symbol", "failed", "payload"])
    df["payload"] = df["payload"].astype(str)
    return df


def alerts(s: Session, limit: int = 500, severity: str | None = None) -> pd.DataFrame:
    """Return the newest alerts and what became of their delivery."""
    q = select(AlertRow.created_at, AlertRow.kind, AlertRow.severity, AlertRow.message, AlertRow.count,
               AlertRow.delivery, AlertRow.key)
    if severity:
        q = q.where(AlertRow.severity == severity)
    return _frame(s, q.order_by(AlertRow.id.desc()).limit(limit),
                  ["created_at", "kind", "severity", "message", "count", "delivery", "key"])


def audit_log(s: Session, limit: int = 500, action_prefix: str | None = None) -> pd.DataFrame:
    """Return the newest audit entries (before and after as JSON text)."""
    q = select(AuditRow.id, AuditRow.ts, AuditRow.actor, AuditRow.action, AuditRow.target, AuditRow.before,
               AuditRow.after, AuditRow.reason)
    if action_prefix:
        q = q.where(AuditRow.action.startswith(action_prefix))
    df = _frame(s, q.order_by(AuditRow.id.desc()).limit(limit),
                ["id", "ts", "actor", "action", "target", "before", "after", "reason"])
    for c in ("before", "after"):
        df[c] = df[c].map(lambda v: "" if v is None else str(v))
    return df


def users(s: Session) -> pd.DataFrame:
    """Return users without their password hashes."""
    return _frame(s, select(UserRow.name, UserRow.role, UserRow.disabled, UserRow.created_at, UserRow.last_login)
                  .order_by(UserRow.name).limit(1000), ["name", "role", "disabled", "created_at", "last_login"])


def risk_overrides(s: Session) -> pd.DataFrame:
    """Return the risk limits changed at run time, who changed them and when."""
    rows = s.execute(select(RiskOverrideRow.key, RiskOverrideRow.value, RiskOverrideRow.actor,
                            RiskOverrideRow.updated_at).order_by(RiskOverrideRow.key)).all()
    return pd.DataFrame([(k, str(v.get("v")), a, t) for k, v, a, t in rows],
                        columns=["key", "value", "actor", "updated_at"])


def user_state(s: Session, name: str) -> tuple[str, bool] | None:
    """Return (role, disabled) of the user, or None if there is no such user."""
    row = s.execute(select(UserRow.role, UserRow.disabled).where(UserRow.name == name)).first()
    return None if row is None else (row[0], bool(row[1]))
