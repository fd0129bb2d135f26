"""Manual commands (CLI today, dashboard controls later): each one is audited with who, why, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tradebot.store.audit import append_audit
from tradebot.store.controls import TradingControlRow
from tradebot.store.db import transaction

KILL_SWITCH = "kill_switch"


@dataclass(frozen=True)
class SwitchState:
    """The kill switch as last set."""

    paused: bool
    actor: str
    reason: str
    updated_at: datetime | None


def trading_status(sessions: sessionmaker[Session]) -> SwitchState:
    """Return whether trading is paused, by whom and why."""
    with sessions() as s:
        return _state(s)


def pause_trading(sessions: sessionmaker[Session], actor: str, reason: str) -> SwitchState:
    """Turn the kill switch on: no new orders except protective exits."""
    return _set(sessions, True, actor, reason, "trading.pause")


def resume_trading(sessions: sessionmaker[Session], actor: str, reason: str) -> SwitchState:
    """Turn the kill switch off."""
    return _set(sessions, False, actor, reason, "trading.resume")


def _state(s: Session) -> SwitchState:
    row = s.get(TradingControlRow, KILL_SWITCH)
    if row is None:
        return SwitchState(False, "", "", None)
    return SwitchState(row.enabled, row.actor, row.reason, row.updated_at)


def _set(sessions: sessionmaker[Session], paused: bool, actor: str, reason: str, action: str) -> SwitchState:
    if not actor.strip():
        raise ValueError("an actor is required: who is doing this?")
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        before = _state(s)
        row = s.get(TradingControlRow, KILL_SWITCH)
        if row is None:
            row = TradingControlRow(key=KILL_SWITCH, enabled=paused, actor=actor, reason=reason, updated_at=now)
            s.add(row)
        row.enabled, row.actor, row.reason, row.updated_at = paused, actor, reason, now
        append_audit(s, actor, action, KILL_SWITCH, {"paused": before.paused}, {"paused": paused}, reason, now)
    return SwitchState(paused, actor, reason, now)
