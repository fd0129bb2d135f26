"""Dashboard authentication: argon2 password hashes, roles, permission checks, login rate limiting, sessions.

Roles are ordered viewer < trader < admin: viewers read, traders also use the trade controls, admins also
edit risk limits and users. Failed logins are stored in the ledger, so the lockout holds across dashboard
processes and restarts, and every failure is written to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.errors import TradebotError
from tradebot.store.audit import append_audit
from tradebot.store.db import transaction
from tradebot.store.users import LoginAttemptRow, UserRow

NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Verifying against this when the name is unknown keeps the response time the same as for a known name.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


class Role(StrEnum):
    """What a user may do, in increasing order of power."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return the role's position: viewer 0, trader 1, admin 2."""
        return list(Role).index(self)

    @classmethod
    def parse(cls, value: str) -> Role:
        """Return the role named value, or raise AuthError listing the valid ones."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise AuthError(f"unknown role {value!r}: use one of {', '.join(r.value for r in cls)}") from None


class AuthError(TradebotError):
    """A login or user-management request is invalid (bad name, weak password, unknown user)."""


class LoginFailed(AuthError):
    """The name or password is wrong, or the account is disabled (the message does not say which)."""


class LoginRateLimited(AuthError):
    """Too many failed logins for this name recently: the name is locked out for a while."""


class PermissionDenied(TradebotError):
    """The actor's role does not allow the command."""


@dataclass(frozen=True)
class Actor:
    """Who runs a command: a name, a role, and where the request came from.

    via "dashboard" actors are re-checked against the users table by every command (a disabled or
    demoted user's open session loses its powers at once); via "cli" actors are the OS user.
    """

    name: str
    role: Role
    via: str = "dashboard"

    @property
    def label(self) -> str:
        """Return the audit log's actor string, e.g. 'alice (trader, dashboard)'."""
        return f"{self.name[:40]} ({self.role.value}, {self.via})"


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures lock a name out, for how long, and how long an idle session lives."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    session_timeout: timedelta = timedelta(minutes=30)


def require(actor: Actor, role: Role, action: str) -> None:
    """Raise PermissionDenied unless actor's role is at least role."""
    if actor.role.rank < role.rank:
        raise PermissionDenied(f"permission denied: {actor.name} is a {actor.role.value} and {action} needs "
                               f"the {role.value} role")


def hash_password(password: str) -> str:
    """Return the argon2id hash of password, refusing passwords shorter than MIN_PASSWORD."""
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password too short: use at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return True when password matches the stored hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_name(name: str) -> str:
    """Return name if it is a valid user name (lowercase letter first, then letters, digits, _ . -)."""
    if not NAME_RE.match(name):
        raise AuthError(f"invalid user name {name!r}: use 1-64 lowercase letters, digits, '_', '.' or '-', "
                        "starting with a letter")
    return name


def recent_failures(s: Session, name: str, now: datetime, window: timedelta) -> tuple[int, datetime | None]:
    """Return the failures for name since its last success within window, and the oldest one's time."""
    last_ok = s.scalar(select(func.max(LoginAttemptRow.ts)).where(LoginAttemptRow.name == name,
                                                                  LoginAttemptRow.success.is_(True)))
    since = max(now - window, last_ok) if last_ok else now - window
    row = s.execute(select(func.count(), func.min(LoginAttemptRow.ts)).where(
        LoginAttemptRow.name == name, LoginAttemptRow.success.is_(False), LoginAttemptRow.ts > since)).one()
    return int(row[0]), row[1]


def authenticate(sessions: sessionmaker[Session], name: str, password: str, now: datetime | None = None,
                 policy: LoginPolicy = LoginPolicy(), source: str = "dashboard") -> Actor:
    """Return the actor for a correct name and password; record and audit every failure; rate limit by name."""
    now = now or datetime.now(UTC)
    name = name.strip().lower()[:64]
    locked: str | None = None
    with transaction(sessions) as s:
        failures, oldest = recent_failures(s, name, now, policy.window)
        if failures >= policy.max_failures:
            retry = (oldest + policy.window - now) if oldest else policy.window
            s.add(LoginAttemptRow(name=name, ts=now, success=False, source=source))
            append_audit(s, name or "<empty>", "auth.login_locked", name, None,
                         {"failures": failures + 1}, f"rate limited ({source})", now)
            minutes = max(1, int(retry.total_seconds() // 60) + 1)
            locked = f"too many failed logins for {name!r}: try again in about {minutes} min"
    if locked:
        raise LoginRateLimited(locked)
    with transaction(sessions) as s:
        user = s.scalar(select(UserRow).where(UserRow.name == name))
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
        if not ok or user is None or user.disabled:
            s.add(LoginAttemptRow(name=name, ts=now, success=False, source=source))
            why = "disabled account" if ok and user is not None and user.disabled else "wrong name or password"
            append_audit(s, name or "<empty>", "auth.login_failed", name, None, {"failures": failures + 1},
                         f"{why} ({source})", now)
        else:
            s.add(LoginAttemptRow(name=name, ts=now, success=True, source=source))
            user.last_login = now
            append_audit(s, user.name, "auth.login", user.name, None, {"role": user.role}, source, now)
            return Actor(user.name, Role(user.role), source)
    # Raised after the transaction commits, so the failure is recorded and audited.
    raise LoginFailed("wrong name or password (or the account is disabled)")


def session_expired(last_seen: datetime, now: datetime, policy: LoginPolicy = LoginPolicy()) -> bool:
    """Return True when a session idle since last_seen has timed out at now."""
    return now - last_seen >= policy.session_timeout


def current_actor(s: Session, actor: Actor) -> Actor:
    """Return actor with its role as stored now; raise PermissionDenied if the user is gone or disabled."""
    if actor.via == "cli":
        return actor
    user = s.scalar(select(UserRow).where(UserRow.name == actor.name))
    if user is None or user.disabled:
        raise PermissionDenied(f"permission denied: user {actor.name!r} is disabled or no longer exists")
    return Actor(user.name, Role(user.role), actor.via)
