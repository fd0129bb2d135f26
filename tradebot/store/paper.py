"""The built-in paper broker's own state: it is a broker, so it keeps its books apart from our ledger."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import Money, UTCDateTime


class PaperAccountRow(Base):
    """A paper account's cash."""

    __tablename__ = "paper_accounts"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    cash: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaperOrderRow(Base):
    """An order resting at or handled by the paper broker."""

    __tablename__ = "paper_orders"
    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(ForeignKey("paper_accounts.account"), index=True)
    broker_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    filled_qty: Mapped[Decimal] = mapped_column(Money())
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Stops: the trigger (a trailing stop's moves with the best price seen), how long the order works, OCO links.
    stop_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    trail_percent: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    time_in_force: Mapped[str] = mapped_column(String(8), default="day", server_default="day")
    parent_client_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PaperFillRow(Base):
    """An execution at the paper broker."""

    __tablename__ = "paper_fills"
    fill_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(ForeignKey("paper_accounts.account"), index=True)
    client_order_id: Mapped[str] = mapped_column(ForeignKey("paper_orders.client_order_id"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    commission: Mapped[Decimal] = mapped_column(Money())
    ts: Mapped[datetime] = mapped_column(UTCDateTime())


class PaperPositionRow(Base):
    """A paper account's holding in one symbol."""

    __tablename__ = "paper_positions"
    account: Mapped[str] = mapped_column(ForeignKey("paper_accounts.account"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    qty: Mapped[Decimal] = mapped_column(Money())
    avg_price: Mapped[Decimal] = mapped_column(Money())
