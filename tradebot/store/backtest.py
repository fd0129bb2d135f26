"""Backtest results: figures per run (portfolio, per strategy, per symbol) and the round-trip trade list."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tradebot.store.base import Base
from tradebot.store.types import Money, UTCDateTime


class BacktestMetricRow(Base):
    """One scope's figures of a backtest run: the portfolio, a strategy or a symbol."""

    __tablename__ = "backtest_metrics"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # portfolio | strategy | symbol
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    metrics: Mapped[dict] = mapped_column(JSON)


class BacktestTradeRow(Base):
    """One simulated round trip (an exit time of None: still open when the data ended)."""

    __tablename__ = "backtest_trades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    entry_ts: Mapped[datetime] = mapped_column(UTCDateTime())
    exit_ts: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    qty: Mapped[Decimal] = mapped_column(Money())
    entry_price: Mapped[Decimal] = mapped_column(Money())
    exit_price: Mapped[Decimal] = mapped_column(Money())
    pnl: Mapped[Decimal] = mapped_column(Money())
    ret: Mapped[float] = mapped_column(Float)
