"""Config changes reach the audit log: each process compares the effective config with the last one recorded."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.config import Settings
from tradebot.store.audit import append_audit
from tradebot.store.db import transaction
from tradebot.store.ops import AuditRow

ACTION = "config.change"
# Per-run location and mode flags that legitimately differ between processes on one ledger.
_IGNORED = ("home", "database_url", "live_confirmed")


def config_snapshot(settings: Settings) -> dict[str, str]:
    """Return the effective config flattened to dotted keys; secrets appear only as set / unset."""
    raw = json.loads(settings.model_dump_json(exclude=set(_IGNORED)))
    flat: dict[str, str] = {}
    _flatten("", raw, flat)
    return flat


def record_config_change(sessions: sessionmaker[Session], settings: Settings, actor: str | None = None,
                         now: datetime | None = None) -> dict[str, tuple[str | None, str | None]]:
    """Append a `config.change` audit entry when the config differs from the last recorded; return the changes."""
    current = config_snapshot(settings)
    with transaction(sessions) as s:
        last = s.scalars(select(AuditRow).where(AuditRow.action == ACTION).order_by(AuditRow.id.desc())
                         .limit(1)).first()
        previous: dict[str, str] = (last.after or {}).get("snapshot", {}) if last is not None else {}
        changes = {k: (previous.get(k), current.get(k)) for k in sorted(previous.keys() | current.keys())
                   if previous.get(k) != current.get(k)}
        if changes:
            before = {k: old for k, (old, _) in changes.items()} if last is not None else None
            after = {"changed": {k: new for k, (_, new) in changes.items()}, "snapshot": current}
            append_audit(s, actor or getpass.getuser(), ACTION, "config", before, after,
                         "first config seen by this ledger" if last is None else "effective config changed",
                         now or datetime.now(UTC))
    return changes


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        # SecretStr dumps as "**********" when set and null when not: the value itself never gets here.
        out[prefix] = json.dumps(value, sort_keys=True)
