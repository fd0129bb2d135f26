"""The sentinel's Prometheus metrics, registered next to the shared ones in tradebot.metrics' registry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

from tradebot.metrics import PREFIX, Metrics, get_metrics

if TYPE_CHECKING:
    from tradebot.sentinel.engine import SentinelEngine
    from tradebot.sentinel.exits import ExitOutcome
    from tradebot.sentinel.health import FeedStatus

_BY_REGISTRY: dict[int, SentinelMetrics] = {}


class SentinelMetrics:
    """Tick rate, feed state and staleness, reconnects, malformed messages, exits and unprotected positions."""

    def __init__(self, metrics: Metrics) -> None:
        r = self.registry = metrics.registry
        self.base = metrics
        p = f"{PREFIX}_sentinel"
        self.ticks = Counter(f"{p}_ticks_total", "Trades checked by the sentinel", registry=r)
        self.tick_rate = Gauge(f"{p}_tick_rate", "Trades checked per second, over the last health interval",
                               registry=r)
        self.connected = Gauge(f"{p}_feed_connected", "1 while the feed's connection is up", ["feed"], registry=r)
        self.staleness = Gauge(f"{p}_feed_staleness_seconds", "Seconds since the feed's last frame", ["feed"],
                               registry=r)
        self.reconnects = Gauge(f"{p}_feed_reconnects", "Reconnections since start", ["feed"], registry=r)
        self.malformed = Gauge(f"{p}_feed_malformed", "Malformed messages skipped since start", ["feed"], registry=r)
        self.exits = Counter(f"{p}_exits_total", "Exits by outcome", ["outcome"], registry=r)
        self.unprotected = Gauge(f"{p}_unprotected_positions", "Positions without a broker-side stop", registry=r)
        self._last = (time.monotonic(), 0)

    def feed(self, st: FeedStatus) -> None:
        """Publish one feed's state."""
        self.connected.labels(feed=st.name).set(1 if st.connected else 0)
        self.staleness.labels(feed=st.name).set(min(st.stale_for(), 1e9))
        self.reconnects.labels(feed=st.name).set(st.reconnects)
        self.malformed.labels(feed=st.name).set(st.malformed)
        if st.last_message is not None:
            self.base.feed_updated(f"sentinel:{st.name}", datetime.now(UTC) - timedelta(seconds=st.stale_for()))

    def engine(self, engine: SentinelEngine, unprotected: int) -> None:
        """Publish the tick count and rate, and the unprotected positions."""
        now, (then, before) = time.monotonic(), self._last
        delta = engine.ticks - before
        if delta >= 0:
            self.ticks.inc(delta)
            self.tick_rate.set(delta / max(now - then, 1e-9))
        self._last = (now, engine.ticks)
        self.unprotected.set(unprotected)

    def exit(self, outcome: ExitOutcome) -> None:
        """Count one exit by what became of it."""
        self.exits.labels(outcome=outcome.order.status.value if outcome.order else "closed_by_broker").inc()


def sentinel_metrics(metrics: Metrics | None = None) -> SentinelMetrics:
    """Return the sentinel metrics on metrics' registry (the process-wide one by default), built once per registry."""
    m = metrics or get_metrics()
    if id(m.registry) not in _BY_REGISTRY:
        _BY_REGISTRY[id(m.registry)] = SentinelMetrics(m)
    return _BY_REGISTRY[id(m.registry)]
