"""Trading ledger tables: runs, signals, intents, risk decisions, orders, fills, positions, equity."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import Money, UTCDateTime


class RunRow(Base):
    """One trading account's life: a replay, a backtest, or the standing paper/live account."""

    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    initial_cash: Mapped[Decimal] = mapped_column(Money())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)


class SignalRow(Base):
    """A strategy's view on one symbol in one cycle."""

    __tablename__ = "signals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), index=True)
    cycle_id: Mapped[str] = mapped_column(String(96), index=True)
    strategy: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    direction: Mapped[str] = mapped_column(String(8))
    strength: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    horizon_days: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    bar_ts: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SignalNewsRow(Base):
    """The news items a signal was computed from (provenance)."""

    __tablename__ = "signal_news"
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True)
    news_id: Mapped[str] = mapped_column(ForeignKey("news_items.id"), primary_key=True)


class OrderIntentRow(Base):
    """What we meant to trade; written, with its client order id, before any broker call."""

    __tablename__ = "order_intents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), index=True)
    cycle_id: Mapped[str] = mapped_column(String(96), index=True)
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id"), nullable=True)
    strategy: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    reference_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stop_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    trail_percent: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    # The broker-side stop / take profit an entry carries (bracket, OTO or OCO at the venue).
    protect_stop: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    protect_take_profit: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)


class RiskDecisionRow(Base):
    """The risk engine's verdict on one intent, with every reason and its numbers."""

    __tablename__ = "risk_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("order_intents.client_order_id"), unique=True)
    verdict: Mapped[str] = mapped_column(String(16))
    requested_qty: Mapped[Decimal] = mapped_column(Money())
    approved_qty: Mapped[Decimal] = mapped_column(Money())
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderRow(Base):
    """An order as last seen at the broker."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("order_intents.client_order_id"), unique=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), index=True)
    broker: Mapped[str] = mapped_column(String(16))
    broker_order_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    parent_client_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    filled_qty: Mapped[Decimal] = mapped_column(Money())
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_ts: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # newest applied event


class FillRow(Base):
    """One execution, keyed by the broker's fill id so a replayed event cannot double it."""

    __tablename__ = "fills"
    fill_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("orders.client_order_id"), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    commission: Mapped[Decimal] = mapped_column(Money())
    ts: Mapped[datetime] = mapped_column(UTCDateTime())


class PositionRow(Base):
    """Net holding per run and symbol, derived from fills."""

    __tablename__ = "positions"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    qty: Mapped[Decimal] = mapped_column(Money())
    avg_price: Mapped[Decimal] = mapped_column(Money())
    realized_pnl: Mapped[Decimal] = mapped_column(Money())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EquitySnapshotRow(Base):
    """Cash, marked positions and equity at one instant; equity == cash + positions_value."""

    __tablename__ = "equity_snapshots"
    __table_args__ = (UniqueConstraint("run_id", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    cash: Mapped[Decimal] = mapped_column(Money())
    positions_value: Mapped[Decimal] = mapped_column(Money())
    equity: Mapped[Decimal] = mapped_column(Money())


class DailyPnlRow(Base):
    """Profit and loss per run and UTC day."""

    __tablename__ = "daily_pnl"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    start_equity: Mapped[Decimal] = mapped_column(Money())
    end_equity: Mapped[Decimal] = mapped_column(Money())
    pnl: Mapped[Decimal] = mapped_column(Money())
