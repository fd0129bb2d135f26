"""Execution tables: what each submission was (to resume it after a crash) and every order event seen once."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import UTCDateTime


class OrderSubmissionRow(Base):
    """The full intent as sent, which broker it went to and how many attempts it took.

    Written in the same transaction that moves the intent to `submitting`, before any network call,
    so a restarted worker can look the order up and, if the broker never got it, send exactly this.
    """

    __tablename__ = "order_submissions"
    client_order_id: Mapped[str] = mapped_column(ForeignKey("order_intents.client_order_id"), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    broker: Mapped[str] = mapped_column(String(16), index=True)
    intent: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)  # submitting | resolved | refused | abandoned
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lookups: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderEventRow(Base):
    """One broker order/fill update, stored once by its event id (redeliveries are dropped)."""

    __tablename__ = "order_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    broker: Mapped[str] = mapped_column(String(16))
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    broker_order_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    fill_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # applied | stale | unknown
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
