"""Prometheus collectors that read state at scrape time: the ledger and the Prefect API.

Flow runs execute in short-lived subprocesses of the worker, so counters kept in their memory die
with them. The long-lived processes (the worker, the sentinel) instead export what the ledger and
the Prefect API say at scrape time, cached briefly so a tight scrape interval cannot hammer either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.store.ops import AlertRow, DataQualityRow, QuarantineRow
from tradebot.store.trading import DailyPnlRow, EquitySnapshotRow, FillRow, OrderRow, PositionRow

log = logging.getLogger(__name__)
PREFIX = "tradebot"
PAGE, MAX_RUNS = 200, 5000


class _Cached:
    """Keep the last collected families for ttl seconds (scrapes between refreshes reuse them)."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl, self._clock = ttl, clock
        self._at = float("-inf")
        self._families: list[Metric] = []
        self._lock = threading.Lock()

    def get(self, build: Callable[[], list[Metric]]) -> list[Metric]:
        with self._lock:
            if self._clock() - self._at >= self._ttl:
                self._families, self._at = build(), self._clock()
            return self._families


class LedgerCollector(Collector):
    """Trade performance and pipeline health of one account, read from the ledger at scrape time."""

    def __init__(self, sessions: sessionmaker[Session], account: str, ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions, self._account = sessions, account
        self._cache = _Cached(ttl, clock)

    def collect(self) -> Iterator[Metric]:
        """Yield the ledger metrics (up=0 and nothing else when the ledger cannot be read)."""
        yield from self._cache.get(self._build)

    def _build(self) -> list[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_ledger_up", "1 when the ledger answered the last scrape")
        try:
            with self._sessions() as s:
                families = list(self._read(s))
        except Exception as exc:  # noqa: BLE001 - a scrape must report the failure, not raise it
            log.warning("metrics: ledger unreadable: %s", type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    def _read(self, s: Session) -> Iterable[Metric]:
        acct = self._account
        labels = ["account"]
        snap = s.execute(select(EquitySnapshotRow.equity, EquitySnapshotRow.cash, EquitySnapshotRow.ts)
                         .where(EquitySnapshotRow.run_id == acct)
                         .order_by(EquitySnapshotRow.ts.desc()).limit(1)).first()
        equity = GaugeMetricFamily(f"{PREFIX}_ledger_equity_dollars", "Last marked equity", labels=labels)
        cash = GaugeMetricFamily(f"{PREFIX}_ledger_cash_dollars", "Last marked cash", labels=labels)
        marked = GaugeMetricFamily(f"{PREFIX}_ledger_last_mark_timestamp_seconds", "When equity was last marked",
                                   labels=labels)
        if snap is not None:
            equity.add_metric([acct], float(snap.equity))
            cash.add_metric([acct], float(snap.cash))
            marked.add_metric([acct], snap.ts.timestamp())
        yield from (equity, cash, marked)

        day = s.execute(select(DailyPnlRow.pnl).where(DailyPnlRow.run_id == acct)
                        .order_by(DailyPnlRow.day.desc()).limit(1)).scalar()
        pnl = GaugeMetricFamily(f"{PREFIX}_ledger_daily_pnl_dollars", "Profit and loss of the last recorded day",
                                labels=labels)
        if day is not None:
            pnl.add_metric([acct], float(day))
        yield pnl

        realized = s.scalar(select(func.coalesce(func.sum(PositionRow.realized_pnl), 0))
                            .where(PositionRow.run_id == acct))
        open_count = s.scalar(select(func.count()).select_from(PositionRow)
                              .where(PositionRow.run_id == acct, PositionRow.qty != 0))
        yield _gauge("ledger_realized_pnl_dollars", "Realized profit and loss", labels, [acct], float(realized or 0))
        yield _gauge("ledger_open_positions", "Open positions", labels, [acct], open_count or 0)

        orders = GaugeMetricFamily(f"{PREFIX}_ledger_orders", "Orders by current status",
                                   labels=["account", "status"])
        for status, n in s.execute(select(OrderRow.status, func.count()).where(OrderRow.run_id == acct)
                                   .group_by(OrderRow.status)):
            orders.add_metric([acct, status], n)
        yield orders
        fills = s.scalar(select(func.count()).select_from(FillRow).where(FillRow.run_id == acct)) or 0
        fills_family = CounterMetricFamily(f"{PREFIX}_ledger_fills", "Fills recorded", labels=labels)
        fills_family.add_metric([acct], fills)
        yield fills_family

        alerts = CounterMetricFamily(f"{PREFIX}_ledger_alerts", "Alerts raised by kind and delivery outcome",
                                     labels=["kind", "delivery"])
        for kind, delivery, n in s.execute(select(AlertRow.kind, AlertRow.delivery, func.count())
                                           .group_by(AlertRow.kind, AlertRow.delivery)):
            alerts.add_metric([kind, delivery], n)
        yield alerts
        dq = CounterMetricFamily(f"{PREFIX}_ledger_dq_checks", "Data-quality expectation results",
                                 labels=["kind", "outcome"])
        for kind, ok, n in s.execute(select(DataQualityRow.kind, DataQualityRow.success, func.count())
                                     .group_by(DataQualityRow.kind, DataQualityRow.success)):
            dq.add_metric([kind, "passed" if ok else "failed"], n)
        yield dq
        quarantined = CounterMetricFamily(f"{PREFIX}_ledger_quarantined", "Rows refused by the data gate",
                                          labels=["kind"])
        for kind, n in s.execute(select(QuarantineRow.kind, func.count()).group_by(QuarantineRow.kind)):
            quarantined.add_metric([kind], n)
        yield quarantined


class PrefectRunsCollector(Collector):
    """Flow-run outcomes over a trailing window from the Prefect API: the pipeline's error rate."""

    def __init__(self, window: timedelta = timedelta(hours=24), ttl: float = 15.0,
                 clock: Callable[[], float] = time.monotonic,
                 read_runs: Callable[[datetime], list[tuple[str, str]]] | None = None) -> None:
        self._window = window
        self._read_runs = read_runs or _read_flow_runs
        self._cache = _Cached(ttl, clock)

    def collect(self) -> Iterator[Metric]:
        """Yield flow runs by flow and state type over the window (api_up=0 when Prefect is unreachable)."""
        yield from self._cache.get(self._build)

    def _build(self) -> list[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_prefect_api_up", "1 when the Prefect API answered the last scrape")
        runs = GaugeMetricFamily(f"{PREFIX}_flow_runs", "Flow runs started in the trailing window, by final state",
                                 labels=["flow", "state"])
        try:
            rows = self._read_runs(datetime.now(UTC) - self._window)
        except Exception as exc:  # noqa: BLE001 - a scrape must report the failure, not raise it
            log.warning("metrics: Prefect API unreadable: %s", type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        counts: dict[tuple[str, str], int] = {}
        for flow, state in rows:
            counts[(flow, state)] = counts.get((flow, state), 0) + 1
        for (flow, state), n in sorted(counts.items()):
            runs.add_metric([flow, state], n)
        return [up, runs]


def _read_flow_runs(since: datetime) -> list[tuple[str, str]]:
    """Return (flow name, state type) of flow runs started since `since`, from the configured Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime

    with get_client(sync_client=True) as client:
        runs: list[Any] = []
        while True:  # the API pages at 200 runs
            page = client.read_flow_runs(flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
                                         limit=PAGE, offset=len(runs))
            runs.extend(page)
            if len(page) < PAGE or len(runs) >= MAX_RUNS:
                break
        names: dict[Any, str] = {}
        out = []
        for r in runs:
            if r.flow_id not in names:
                names[r.flow_id] = client.read_flow(r.flow_id).name
            out.append((names[r.flow_id], str(r.state_type.value if r.state_type else "UNKNOWN").lower()))
        return out


def _gauge(name: str, doc: str, labels: list[str], values: list[str], value: float) -> GaugeMetricFamily:
    g = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)
    g.add_metric(values, value)
    return g
