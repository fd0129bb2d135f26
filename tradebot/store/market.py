"""Market-data tables: instruments, bars, news, sentiment scores, earnings events."""

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import UTCDateTime


class InstrumentRow(Base):
    """A tradable symbol."""

    __tablename__ = "instruments"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    asset_class: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    exchange: Mapped[str] = mapped_column(String(32))
    min_qty: Mapped[str] = mapped_column(String(32))
    qty_step: Mapped[str] = mapped_column(String(32))


class BarRow(Base):
    """One OHLCV bar. Prices are float: bars feed vectorized analytics, never a ledger amount."""

    __tablename__ = "bars"
    __table_args__ = (UniqueConstraint("symbol", "timeframe", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(8))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NewsItemRow(Base):
    """An article; decisions may use it only at or after published_at."""

    __tablename__ = "news_items"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    headline: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NewsSymbolRow(Base):
    """Which symbols an article is about."""

    __tablename__ = "news_symbols"
    news_id: Mapped[str] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class SentimentScoreRow(Base):
    """A model's score of one article; rescoring with a new model version adds a row."""

    __tablename__ = "sentiment_scores"
    __table_args__ = (UniqueConstraint("news_id", "model_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    news_id: Mapped[str] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"))
    compound: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(32))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EarningsEventRow(Base):
    """A scheduled or reported earnings announcement."""

    __tablename__ = "earnings_events"
    __table_args__ = (UniqueConstraint("symbol", "date"), Index("ix_earnings_date", "date"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32))
    date: Mapped[date] = mapped_column(Date)
    hour: Mapped[str] = mapped_column(String(8))
    eps_estimate: Mapped[float | None] = mapped_column(Float, nullable=True)
    eps_actual: Mapped[float | None] = mapped_column(Float, nullable=True)
    revenue_estimate: Mapped[float | None] = mapped_column(Float, nullable=True)
    revenue_actual: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(32))
