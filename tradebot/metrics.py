"""Prometheus metrics in a dedicated registry: performance, health, resources, errors and alerts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client import start_http_server as _start_http_server

PREFIX = "tradebot"


class Metrics:
    """Every tradebot metric, registered in its own CollectorRegistry (not prometheus_client's global one)."""

    def __init__(self, registry: CollectorRegistry | None = None, clock: Callable[[], float] = time.time,
                 process: bool = True) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._clock = clock
        r = self.registry
        # Trade performance
        self.equity = Gauge(f"{PREFIX}_equity_dollars", "Account equity", ["account"], registry=r)
        self.daily_pnl = Gauge(f"{PREFIX}_daily_pnl_dollars", "Profit and loss since the session open",
                               ["account"], registry=r)
        self.orders = Counter(f"{PREFIX}_orders_total", "Orders by final or current status", ["status"], registry=r)
        self.fills = Counter(f"{PREFIX}_fills_total", "Fills by status (partial or filled)", ["status"], registry=r)
        # System health
        self.last_flow_success = Gauge(f"{PREFIX}_last_flow_success_timestamp_seconds",
                                       "Unix time of each flow's last successful run", ["flow"], registry=r)
        self.flow_duration = Histogram(f"{PREFIX}_flow_duration_seconds", "Flow run wall time", ["flow"],
                                       buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900), registry=r)
        self.last_feed_update = Gauge(f"{PREFIX}_last_feed_update_timestamp_seconds",
                                      "Unix time of each feed's newest data", ["feed"], registry=r)
        self.feed_staleness = Gauge(f"{PREFIX}_feed_staleness_seconds",
                                    "Seconds since each feed last updated, computed at scrape time", ["feed"],
                                    registry=r)
        # Error rates
        self.errors = Counter(f"{PREFIX}_errors_total", "Errors by pipeline stage", ["stage"], registry=r)
        # Alerts
        self.alerts = Counter(f"{PREFIX}_alerts_sent_total", "Alert deliveries by channel and outcome",
                              ["channel", "outcome"], registry=r)
        # Resource use: CPU, memory, open fds of this process (Linux /proc).
        if process:
            ProcessCollector(registry=r)
        self._feeds: dict[str, float] = {}
        self._lock = threading.Lock()

    def flow_succeeded(self, flow: str, duration_seconds: float | None = None, at: datetime | None = None) -> None:
        """Record a successful flow run (and its duration when known)."""
        self.last_flow_success.labels(flow=flow).set(at.timestamp() if at else self._clock())
        if duration_seconds is not None:
            self.flow_duration.labels(flow=flow).observe(duration_seconds)

    def feed_updated(self, feed: str, at: datetime | None = None) -> None:
        """Record that feed delivered data at `at` (now if omitted); staleness is derived at scrape time."""
        ts = at.timestamp() if at else self._clock()
        with self._lock:
            first = feed not in self._feeds
            self._feeds[feed] = ts
        self.last_feed_update.labels(feed=feed).set(ts)
        if first:
            self.feed_staleness.labels(feed=feed).set_function(lambda: self._staleness(feed))

    def _staleness(self, feed: str) -> float:
        return self._clock() - self._feeds[feed]

    def error(self, stage: str) -> None:
        """Count one error in a pipeline stage (ingest, validate, signals, risk, orders, alerts...)."""
        self.errors.labels(stage=stage).inc()

    def alert(self, channel: str, outcome: str) -> None:
        """Count one alert delivery outcome (sent, failed, suppressed) on a channel."""
        self.alerts.labels(channel=channel, outcome=outcome).inc()

    def render(self) -> str:
        """Return the Prometheus text exposition of every metric."""
        return generate_latest(self.registry).decode()


_DEFAULT: Metrics | None = None
_DEFAULT_LOCK = threading.Lock()


def get_metrics() -> Metrics:
    """Return the process-wide Metrics, built on first use (never at import)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Metrics()
        return _DEFAULT


def render(metrics: Metrics | None = None) -> str:
    """Return the exposition text of metrics (the process-wide set by default)."""
    return (metrics or get_metrics()).render()


def start_metrics_server(port: int, addr: str = "127.0.0.1",
                         metrics: Metrics | None = None) -> tuple[WSGIServer, threading.Thread]:
    """Serve /metrics on addr:port in a daemon thread; return (server, thread); port 0 picks a free port."""
    return _start_http_server(port, addr=addr, registry=(metrics or get_metrics()).registry)
