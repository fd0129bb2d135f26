"""Manual commands behind both the CLI and the dashboard controls: permission-checked and audited.

Every command takes an Actor (tradebot.auth) and checks its role here, not in the UI: viewers read,
traders pause/resume, flatten, cancel and trigger flows, admins also edit risk limits and users. Each
writes one hash-chained audit entry with the actor, the state before and after, and the reason.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.auth import (
    Actor,
    AuthError,
    Role,
    check_name,
    current_actor,
    hash_password,
    require,
)
from tradebot.domain import ClientOrderId, OrderIntent, OrderStatus, RiskDecision, Side, Symbol, Verdict
from tradebot.domain.ids import make_client_order_id
from tradebot.errors import BrokerError, ConfigError, TradebotError
from tradebot.store import ledger
from tradebot.store.audit import append_audit
from tradebot.store.controls import TradingControlRow
from tradebot.store.db import transaction
from tradebot.store.market import BarRow
from tradebot.store.trading import OrderIntentRow, OrderRow, PositionRow
from tradebot.store.users import RiskOverrideRow, UserRow

KILL_SWITCH = "kill_switch"
MANUAL = "manual"


class CommandError(TradebotError):
    """A manual command cannot run as asked (no such position, bad limit, Prefect unreachable)."""


@dataclass(frozen=True)
class SwitchState:
    """The kill switch as last set."""

    paused: bool
    actor: str
    reason: str
    updated_at: datetime | None


def cli_actor() -> Actor:
    """Return the CLI's actor: whoever runs the command on this machine, with the admin role."""
    # Shell access to the host already grants the ledger and the keyring, so the CLI is not a lesser role.
    return Actor(getpass.getuser(), Role.ADMIN, "cli")


def _authorize(s: Session, actor: Actor, role: Role, action: str) -> Actor:
    if not actor.name.strip():
        raise ValueError("an actor is required: who is doing this?")
    actor = current_actor(s, actor)
    require(actor, role, action)
    return actor


# --- kill switch -------------------------------------------------------------------------------


def trading_status(sessions: sessionmaker[Session]) -> SwitchState:
    """Return whether trading is paused, by whom and why."""
    with sessions() as s:
        return _state(s)


def pause_trading(sessions: sessionmaker[Session], actor: Actor, reason: str) -> SwitchState:
    """Turn the kill switch on (trader): no new orders except protective exits."""
    return _set(sessions, True, actor, reason, "trading.pause")


def resume_trading(sessions: sessionmaker[Session], actor: Actor, reason: str) -> SwitchState:
    """Turn the kill switch off (trader)."""
    return _set(sessions, False, actor, reason, "trading.resume")


def _state(s: Session) -> SwitchState:
    row = s.get(TradingControlRow, KILL_SWITCH)
    if row is None:
        return SwitchState(False, "", "", None)
    return SwitchState(row.enabled, row.actor, row.reason, row.updated_at)


def _set(sessions: sessionmaker[Session], paused: bool, actor: Actor, reason: str, action: str) -> SwitchState:
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        actor = _authorize(s, actor, Role.TRADER, action)
        before = _state(s)
        row = s.get(TradingControlRow, KILL_SWITCH)
        if row is None:
            row = TradingControlRow(key=KILL_SWITCH, enabled=paused, actor=actor.name, reason=reason, updated_at=now)
            s.add(row)
        row.enabled, row.actor, row.reason, row.updated_at = paused, actor.name, reason, now
        append_audit(s, actor.label, action, KILL_SWITCH, {"paused": before.paused}, {"paused": paused}, reason, now)
    from tradebot.prefect_events import kill_switch_changed

    # The Prefect event lets server-side automations react (the kill-switch alert); a no-op without a server.
    kill_switch_changed(paused, actor.name, reason)
    return SwitchState(paused, actor.name, reason, now)


# --- positions and orders ----------------------------------------------------------------------


@dataclass(frozen=True)
class FlattenResult:
    """The exit a flatten wrote: its client order id, side and quantity, and whether it was new."""

    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    created: bool
    order_status: str = "pending"  # the broker's status when sent now; "pending" until the next cycle sends it
    reject_reason: str = ""


def flatten_position(sessions: sessionmaker[Session], actor: Actor, run_id: str, symbol: str, reason: str,
                     now: datetime | None = None, broker: Any = None) -> FlattenResult:
    """Write a market exit for the whole position (trader); send it now through broker, else the next cycle does.

    The client order id derives from the position (symbol, opened_at, qty), so a second click on the
    same position finds the same intent instead of writing a second exit. With a broker the exit goes
    through the exactly-once path (tradebot.execution.submitter.submit_intent); without one it stays
    pending and the next trade cycle's submit_orders sends it. Exits go out while paused.
    """
    now = now or datetime.now(UTC)
    symbol = symbol.strip().upper()
    with transaction(sessions) as s:
        actor = _authorize(s, actor, Role.TRADER, "position.flatten")
        pos = s.get(PositionRow, (run_id, symbol))
        if pos is None or pos.qty == 0:
            raise CommandError(f"no open position in {symbol} for account {run_id}")
        side = Side.SELL if pos.qty > 0 else Side.BUY
        opened = pos.opened_at.isoformat() if pos.opened_at else "unknown"
        cid = make_client_order_id(MANUAL, symbol, f"flatten:{run_id}:{opened}:{pos.qty}", "exit")
        last = s.scalar(select(BarRow.close).where(BarRow.symbol == symbol).order_by(BarRow.ts.desc()).limit(1))
        qty = abs(pos.qty)
        why = f"manual flatten by {actor.name}: {reason}"
        intent = OrderIntent(client_order_id=ClientOrderId(cid), strategy=MANUAL, symbol=Symbol(symbol), side=side,
                             qty=qty, ts=now, reference_price=Decimal(str(last)) if last is not None else None,
                             reason=why)
        decision = RiskDecision(ClientOrderId(cid), Verdict.ACCEPTED, qty, qty, (why,))
        created = ledger.record_proposal(s, run_id, f"{run_id}:manual:{now:%Y%m%dT%H%M%S}", intent, decision,
                                         None, now)
        append_audit(s, actor.label, "position.flatten", f"{run_id}/{symbol}",
                     {"qty": str(pos.qty), "avg_price": str(pos.avg_price)},
                     {"client_order_id": cid, "side": side.value, "qty": str(qty), "new_intent": created,
                      "sent_now": broker is not None}, reason, now)
    if broker is None:
        return FlattenResult(cid, symbol, side.value, qty, created)
    from tradebot.execution.submitter import submit_intent

    # BrokerUnavailable propagates: the intent stays `submitting` and recover_submitting resolves it.
    order = submit_intent(sessions, run_id, broker, intent, now)
    return FlattenResult(cid, symbol, side.value, qty, created, order.status.value, order.reject_reason)


@dataclass(frozen=True)
class CancelResult:
    """What became of each open order a cancel touched (status, or the broker's error)."""

    outcomes: dict[str, str]


def cancel_open_orders(sessions: sessionmaker[Session], actor: Actor, run_id: str, broker: Any,
                       symbol: str | None = None, reason: str = "", now: datetime | None = None) -> CancelResult:
    """Cancel the account's working orders (optionally one symbol's) at the broker and in the ledger (trader)."""
    now = now or datetime.now(UTC)
    terminal = [st.value for st in OrderStatus if st.terminal]
    with transaction(sessions) as s:
        actor = _authorize(s, actor, Role.TRADER, "orders.cancel")
        q = select(OrderRow.client_order_id, OrderRow.status).where(OrderRow.run_id == run_id,
                                                                   OrderRow.status.not_in(terminal))
        if symbol:
            q = q.where(OrderRow.symbol == symbol.strip().upper())
        before = {cid: status for cid, status in s.execute(q.order_by(OrderRow.id))}
    outcomes: dict[str, str] = {}
    for cid in before:
        try:
            order = broker.cancel_order(ClientOrderId(cid), now)
        except BrokerError as exc:
            outcomes[cid] = f"error: {exc}"
            continue
        with transaction(sessions) as s:
            ledger.upsert_order(s, run_id, broker.name, order, now)
        outcomes[cid] = order.status.value
    with transaction(sessions) as s:
        append_audit(s, actor.label, "orders.cancel", f"{run_id}/{symbol or '*'}", before, outcomes, reason, now)
    return CancelResult(outcomes)


def configured_broker(settings: Any, sessions: sessionmaker[Session]) -> Any:
    """Return the broker of the standing account (see tradebot.brokers.build_broker)."""
    from tradebot.brokers import build_broker

    return build_broker(settings, sessions, settings.paper.account)


# --- flows ---------------------------------------------------------------------------------------


def trigger_flow(sessions: sessionmaker[Session], actor: Actor, deployment: str,
                 parameters: Mapping[str, Any] | None = None, reason: str = "") -> str:
    """Start a run of a Prefect deployment ('flow-name/deployment-name') without waiting (trader); return its id."""
    if "/" not in deployment:
        raise CommandError(f"deployment {deployment!r} must be 'flow-name/deployment-name', e.g. "
                           "'trade_cycle/trade-cycle-1d'")
    with sessions() as s:
        actor = _authorize(s, actor, Role.TRADER, "flow.trigger")
    from prefect.deployments import run_deployment

    try:
        run: Any = run_deployment(name=deployment, parameters=dict(parameters or {}), timeout=0,
                                  tags=["manual", f"by:{actor.name}"])
    except Exception as exc:  # noqa: BLE001 - Prefect raises many types; the user needs one clear line
        raise CommandError(f"could not start {deployment}: {type(exc).__name__}: {exc}") from None
    with transaction(sessions) as s:
        append_audit(s, actor.label, "flow.trigger", deployment, None,
                     {"flow_run_id": str(run.id), "flow_run_name": run.name, "parameters": dict(parameters or {})},
                     reason)
    return str(run.id)


# --- risk limits ---------------------------------------------------------------------------------


def risk_overrides(s: Session) -> dict[str, Any]:
    """Return the risk limits changed at run time, by key."""
    return {r.key: r.value.get("v") for r in s.scalars(select(RiskOverrideRow))}


def effective_risk(s: Session, base: Any) -> Any:
    """Return base (a RiskConfig) with the stored overrides applied; ConfigError names a now-invalid override."""
    overrides = risk_overrides(s)
    if not overrides:
        return base
    try:
        return type(base).model_validate({**base.model_dump(), **overrides})
    except ValidationError as err:
        raise ConfigError(_limit_error(err, "risk override (tradebot trading limits set)")) from None


def apply_risk_overrides(settings: Any, sessions: sessionmaker[Session]) -> Any:
    """Return settings whose risk section carries the ledger's run-time overrides."""
    with sessions() as s:
        risk = effective_risk(s, settings.risk)
    return settings if risk is settings.risk else settings.model_copy(update={"risk": risk})


def set_risk_limits(sessions: sessionmaker[Session], actor: Actor, base: Any, changes: Mapping[str, Any],
                    reason: str = "") -> Any:
    """Change risk limits within the RiskConfig bounds (admin); return the effective RiskConfig.

    base is the configured RiskConfig; a value equal to it removes the override. A value out of bounds
    raises CommandError naming the key and the bound, and nothing is stored.
    """
    fields = type(base).model_fields
    unknown = sorted(k for k in changes if k not in fields)
    if unknown:
        raise CommandError(f"unknown risk limit(s) {', '.join(unknown)}: editable are {', '.join(sorted(fields))}")
    if not changes:
        raise CommandError("no risk limit given: use KEY=VALUE, e.g. max_position_weight=0.1")
    parsed = {k: None if isinstance(v, str) and v.strip().lower() in ("none", "null") else v
              for k, v in changes.items()}
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        actor = _authorize(s, actor, Role.ADMIN, "risk.limits.set")
        before_cfg = effective_risk(s, base)
        try:
            after_cfg = type(base).model_validate({**before_cfg.model_dump(), **parsed})
        except ValidationError as err:
            raise CommandError(_limit_error(err, "risk limit")) from None
        before, after = _jsonable(before_cfg, changes), _jsonable(after_cfg, changes)
        for key in changes:
            value = getattr(after_cfg, key)
            row = s.get(RiskOverrideRow, key)
            if value == getattr(base, key):
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(RiskOverrideRow(key=key, value={"v": after[key]}, actor=actor.name, updated_at=now))
            else:
                row.value, row.actor, row.updated_at = {"v": after[key]}, actor.name, now
        append_audit(s, actor.label, "risk.limits.set", "risk", before, after, reason, now)
    return after_cfg


def _jsonable(cfg: Any, keys: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in cfg.model_dump(include=set(keys)).items()}


def _limit_error(err: ValidationError, what: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    return f"{what}: risk.{key} = {first.get('input')!r} is invalid: {first['msg']}"


# --- users ---------------------------------------------------------------------------------------


def add_user(sessions: sessionmaker[Session], actor: Actor, name: str, password: str, role: str) -> None:
    """Create a user with an argon2 hash of password (admin)."""
    name, parsed = check_name(name), Role.parse(role)
    digest = hash_password(password)
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        actor = _authorize(s, actor, Role.ADMIN, "users.add")
        if s.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
            raise AuthError(f"user {name!r} already exists: use `tradebot users set-role` or pick another name")
        s.add(UserRow(name=name, password_hash=digest, role=parsed.value, created_at=now, disabled=False))
        append_audit(s, actor.label, "users.add", name, None, {"role": parsed.value, "disabled": False}, "", now)


def set_user_role(sessions: sessionmaker[Session], actor: Actor, name: str, role: str) -> None:
    """Change a user's role (admin)."""
    parsed = Role.parse(role)
    _update_user(sessions, actor, name, "users.set_role", role=parsed.value)


def set_user_disabled(sessions: sessionmaker[Session], actor: Actor, name: str, disabled: bool = True) -> None:
    """Disable (or re-enable) a user (admin); a disabled user's open sessions lose their powers at once."""
    _update_user(sessions, actor, name, "users.disable" if disabled else "users.enable", disabled=disabled)


def _update_user(sessions: sessionmaker[Session], actor: Actor, name: str, action: str, **values: Any) -> None:
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        actor = _authorize(s, actor, Role.ADMIN, action)
        user = s.scalar(select(UserRow).where(UserRow.name == name.strip().lower()))
        if user is None:
            raise AuthError(f"no user named {name!r}: `tradebot users list` shows them")
        before = {k: getattr(user, k) for k in values}
        for k, v in values.items():
            setattr(user, k, v)
        append_audit(s, actor.label, action, user.name, before, values, "", now)


def list_users(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Return every user's name, role, state and last login (never the hash)."""
    with sessions() as s:
        rows = s.scalars(select(UserRow).order_by(UserRow.name)).all()
        return [{"name": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at,
                 "last_login": u.last_login} for u in rows]


def pending_manual_exits(s: Session, run_id: str) -> list[str]:
    """Return client ids of manual exits written but not yet sent."""
    return list(s.scalars(select(OrderIntentRow.client_order_id).where(
        OrderIntentRow.run_id == run_id, OrderIntentRow.strategy == MANUAL,
        OrderIntentRow.status == ledger.INTENT_PENDING)))

