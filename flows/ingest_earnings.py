"""Flow `ingest_earnings`: refresh the earnings calendar (estimates, and actuals once released)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.ingest import ingest_earnings as ingest_earnings_task
from tasks.runtime import build_runtime
from tradebot.config import load_settings
from tradebot.prefect_events import earnings_released, new_releases
from tradebot.store.marketdata import read_earnings

# A release older than this is history (a first load of the calendar), not news worth a trade cycle.
RELEASE_FRESHNESS = timedelta(days=3)


@flow(name="ingest_earnings", log_prints=True, **FAILURE_HOOKS)
def ingest_earnings(config_path: str | None = None, now: datetime | None = None,
                    overrides: dict | None = None) -> dict:
    """Store the earnings calendar as known at now; announce each newly released report with an event."""
    settings = load_settings(config_path, **(overrides or {}))
    now = now or datetime.now(UTC)
    rt = build_runtime(settings, settings.paper.account, "paper", now)
    since = (now - RELEASE_FRESHNESS).date()
    with rt.sessions() as s:
        before = read_earnings(s, rt.symbols, since, now.date())
    summary = ingest_earnings_task(rt, now)
    with rt.sessions() as s:
        released = new_releases(before, read_earnings(s, rt.symbols, since, now.date()), since)
    for e in released:
        earnings_released(e.symbol, e.date, e.eps_actual, e.eps_estimate, e.surprise)
    return {**summary, "released": [f"{e.symbol} {e.date}" for e in released]}
