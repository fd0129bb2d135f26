"""Flow `ingest_earnings`: refresh the earnings calendar (estimates, and actuals once released)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.ingest import ingest_earnings as ingest_earnings_task
from tasks.runtime import build_runtime
from tradebot.config import load_settings


@flow(name="ingest_earnings", log_prints=True, **FAILURE_HOOKS)
def ingest_earnings(config_path: str | None = None, now: datetime | None = None,
                    overrides: dict | None = None) -> dict:
    """Store the earnings calendar as known at now (default: the current time)."""
    settings = load_settings(config_path, **(overrides or {}))
    now = now or datetime.now(UTC)
    rt = build_runtime(settings, settings.paper.account, "paper", now)
    return ingest_earnings_task(rt, now)
