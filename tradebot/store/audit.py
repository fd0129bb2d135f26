"""The tamper-evident audit log: every entry's hash covers its content and the previous entry's hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradebot.store.ops import AuditRow

GENESIS = "0" * 64


def entry_hash(prev_hash: str, ts: datetime, actor: str, action: str, target: str, before: Any, after: Any,
               reason: str) -> str:
    """Return the SHA-256 of an entry's canonical JSON and the previous hash."""
    body = json.dumps(
        {"prev": prev_hash, "ts": ts.astimezone(UTC).isoformat(), "actor": actor, "action": action, "target": target,
         "before": before, "after": after, "reason": reason},
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append_audit(s: Session, actor: str, action: str, target: str = "", before: Any = None, after: Any = None,
                 reason: str = "", now: datetime | None = None) -> AuditRow:
    """Append an entry chained to the last one (call inside the transaction that makes the change)."""
    now = now or datetime.now(UTC)
    # Row lock on PostgreSQL so two writers cannot chain onto the same predecessor; SQLite serializes writers.
    last = s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(1).with_for_update()).first()
    prev = last.hash if last is not None else GENESIS
    row = AuditRow(ts=now, actor=actor, action=action, target=target, before=before, after=after, reason=reason,
                   prev_hash=prev, hash=entry_hash(prev, now, actor, action, target, before, after, reason))
    s.add(row)
    s.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    """Result of verifying the audit chain."""

    entries: int
    ok: bool
    first_broken_id: int | None = None
    problem: str = ""


def verify_chain(s: Session) -> ChainReport:
    """Recompute every hash in id order; name the first entry that was edited, removed or reordered."""
    prev = GENESIS
    count = 0
    for row in s.scalars(select(AuditRow).order_by(AuditRow.id)):
        count += 1
        if row.prev_hash != prev:
            return ChainReport(count, False, row.id, "its predecessor was deleted or changed (prev_hash mismatch)")
        expected = entry_hash(prev, row.ts, row.actor, row.action, row.target, row.before, row.after, row.reason)
        if row.hash != expected:
            return ChainReport(count, False, row.id, "its content was edited (hash mismatch)")
        prev = row.hash
    return ChainReport(count, True)
