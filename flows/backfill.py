"""Flow `backfill_prices`: load a date range chunk by chunk through the gate, with progress."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.alerting import gate_alerts, send_alerts
from tasks.ingest import fetch_bars, gate_and_store_bars
from tasks.progress import ProgressArtifact
from tasks.runtime import build_runtime
from tradebot.config import load_settings


@flow(name="backfill_prices", log_prints=True, **FAILURE_HOOKS)
def backfill_prices(start: datetime, end: datetime, config_path: str | None = None, chunk_days: int = 30,
                    overrides: dict | None = None, show_progress: bool = False) -> dict:
    """Fetch [start, end) in chunks; each chunk passes the gate before it is stored (re-runs are idempotent)."""
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        raise ValueError("backfill needs timezone-aware start < end")
    settings = load_settings(config_path, **(overrides or {}))
    rt = build_runtime(settings, settings.paper.account, "paper", end, start=start, until=end)
    chunks = []
    t = start
    while t < end:
        chunks.append((t, min(end, t + timedelta(days=chunk_days))))
        t = chunks[-1][1]
    progress = ProgressArtifact("backfill-progress", len(chunks), f"backfill {start:%Y-%m-%d}..{end:%Y-%m-%d}")
    totals = {"rows": 0, "good": 0, "quarantined": 0, "chunks": len(chunks)}
    from flows.replay import Progress

    with rt.alerts, Progress(show_progress, len(chunks), "backfill") as advance:
        for lo, hi in chunks:
            summary = gate_and_store_bars(rt, fetch_bars(rt, lo, hi), f"backfill-{lo:%Y%m%d}-{hi:%Y%m%d}", hi)
            send_alerts(rt, gate_alerts(summary))
            for k in ("rows", "good", "quarantined"):
                totals[k] += summary[k]
            progress.advance()
            advance(lo.date(), {"equity": f"{totals['good']} bars"})
    return totals
