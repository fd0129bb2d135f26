"""Read views for the daily report: one account's PnL, trades, alerts and data quality over a time window."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradebot.store.ops import AlertRow, DataQualityRow, QuarantineRow
from tradebot.store.trading import EquitySnapshotRow, FillRow, OrderRow, RunRow


@dataclass(frozen=True)
class TradeLine:
    """One fill in the window."""

    ts: datetime
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    commission: Decimal


@dataclass(frozen=True)
class WindowReport:
    """What happened to run_id in [start, end)."""

    run_id: str
    start: datetime
    end: datetime
    start_equity: Decimal | None
    end_equity: Decimal | None
    trades: list[TradeLine] = field(default_factory=list)
    orders_by_status: dict[str, int] = field(default_factory=dict)
    alerts: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, severity, count)
    quality_batches: int = 0
    quality_failed: list[tuple[str, str, int]] = field(default_factory=list)  # (batch, expectation, unexpected)
    quarantined: int = 0

    @property
    def pnl(self) -> Decimal | None:
        """Return end minus start equity, or None when either is unknown."""
        if self.start_equity is None or self.end_equity is None:
            return None
        return self.end_equity - self.start_equity

    @property
    def commissions(self) -> Decimal:
        """Return the commissions paid on the window's fills."""
        return sum((t.commission for t in self.trades), Decimal(0))


def _equity_at(s: Session, run_id: str, before: datetime) -> Decimal | None:
    q = (select(EquitySnapshotRow.equity).where(EquitySnapshotRow.run_id == run_id, EquitySnapshotRow.ts < before)
         .order_by(EquitySnapshotRow.ts.desc(), EquitySnapshotRow.id.desc()).limit(1))
    return s.scalars(q).first()


def window_report(s: Session, run_id: str, start: datetime, end: datetime) -> WindowReport:
    """Return run_id's equity change, fills, orders, alerts and data-quality results in [start, end)."""
    start_equity = _equity_at(s, run_id, start)
    if start_equity is None:  # the account opened inside the window: it started from its initial cash
        run = s.get(RunRow, run_id)
        start_equity = run.initial_cash if run is not None and run.started_at < end else None
    end_equity = _equity_at(s, run_id, end)
    trades = [TradeLine(r.ts, r.symbol, r.side, r.qty, r.price, r.commission) for r in s.scalars(
        select(FillRow).where(FillRow.run_id == run_id, FillRow.ts >= start, FillRow.ts < end).order_by(FillRow.ts))]
    orders = dict(s.execute(select(OrderRow.status, func.count()).where(
        OrderRow.run_id == run_id, OrderRow.submitted_at >= start, OrderRow.submitted_at < end)
        .group_by(OrderRow.status)).all())
    # Alerts are not per run: the report shows everything the system raised that day.
    counts: Counter[tuple[str, str]] = Counter()
    for kind, severity, n in s.execute(select(AlertRow.kind, AlertRow.severity, AlertRow.count).where(
            AlertRow.created_at >= start, AlertRow.created_at < end)):
        counts[(kind, severity)] += n
    quality = s.execute(select(DataQualityRow.batch, DataQualityRow.expectation, DataQualityRow.success,
                               DataQualityRow.unexpected_count)
                        .where(DataQualityRow.checked_at >= start, DataQualityRow.checked_at < end)).all()
    quarantined = s.scalar(select(func.count()).select_from(QuarantineRow).where(
        QuarantineRow.quarantined_at >= start, QuarantineRow.quarantined_at < end)) or 0
    return WindowReport(
        run_id=run_id, start=start, end=end, start_equity=start_equity, end_equity=end_equity, trades=trades,
        orders_by_status={str(k): int(v) for k, v in orders.items()},
        alerts=sorted(((k, sev, n) for (k, sev), n in counts.items()), key=lambda a: (-a[2], a[0])),
        quality_batches=len({row.batch for row in quality}),
        quality_failed=[(row.batch, row.expectation, row.unexpected_count) for row in quality if not row.success],
        quarantined=int(quarantined),
    )
