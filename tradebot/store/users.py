"""Dashboard users, login attempts (for rate limiting across processes) and risk-limit overrides."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import UTCDateTime


class UserRow(Base):
    """A dashboard user: a password hash (argon2), a role, and whether the account is disabled."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginAttemptRow(Base):
    """One login attempt; failures in a trailing window lock the name out, whichever process served them."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_ts", "name", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    success: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64), default="")


class RiskOverrideRow(Base):
    """A risk limit an admin changed at run time; it overrides the config file until removed."""

    __tablename__ = "risk_overrides"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)  # {"v": value} so null and numbers round-trip on every backend
    actor: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
