"""Risk state that must survive restarts: the kill switch, daily risk state, stop levels per position."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import Money, UTCDateTime


class TradingControlRow(Base):
    """A named switch (e.g. the kill switch), who set it last, and why."""

    __tablename__ = "trading_controls"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RiskStateRow(Base):
    """The risk engine's daily state per run (session start equity, trades today, halts)."""

    __tablename__ = "risk_state"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    state: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PositionStopRow(Base):
    """Stop and target levels of an open position, shared by the cycle, the sentinel and the broker."""

    __tablename__ = "position_stops"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    stop_loss: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    take_profit: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    levels: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
