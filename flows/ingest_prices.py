"""Flow `ingest_prices`: fetch new bars since the last stored one, gate them, store the good rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow
from prefect.events import emit_event

from flows.hooks import FAILURE_HOOKS
from tasks.alerting import gate_alerts, send_alerts, switch_alerts
from tasks.ingest import fetch_bars, gate_and_store_bars
from tasks.runtime import build_runtime
from tradebot.adapters.feeds import FilePriceFeed
from tradebot.config import load_settings
from tradebot.store.marketdata import last_bar_ts

DEFAULT_BACKFILL = timedelta(days=120)


@flow(name="ingest_prices", log_prints=True, **FAILURE_HOOKS)
def ingest_prices(config_path: str | None = None, end: datetime | None = None,
                  overrides: dict | None = None) -> dict:
    """Ingest bars incrementally up to end (default now) and announce them with an event."""
    settings = load_settings(config_path, **(overrides or {}))
    end = end or datetime.now(UTC)
    rt = build_runtime(settings, settings.paper.account, "paper", end)
    with rt.sessions() as s:
        last = last_bar_ts(s, rt.symbols, settings.data.timeframe)
    # A file is loaded whole (the upsert makes a reload harmless). A provider is asked incrementally:
    # from just after the oldest "newest bar", so no symbol misses a bar, or a default backfill window.
    if isinstance(rt.prices, FilePriceFeed):
        start = rt.prices.span()[0]
    elif len(last) == len(rt.symbols):
        start = min(last.values()) + timedelta(microseconds=1)
    else:
        start = end - DEFAULT_BACKFILL
    bars = fetch_bars(rt, start, end)
    summary = gate_and_store_bars(rt, bars, f"bars-{end:%Y%m%dT%H%M%S}", end)
    switches = list(getattr(rt.prices, "switches", []))
    with rt.alerts:
        send_alerts(rt, [*gate_alerts(summary), *switch_alerts(switches)])
    summary["feed_switches"] = [f"{sw.from_feed}->{sw.to_feed} ({sw.reason}: {sw.detail})" for sw in switches]
    emit_event(event="tradebot.prices.ingested", resource={"prefect.resource.id": f"tradebot.run.{rt.run_id}"},
               payload={"rows": summary["good"], "quarantined": summary["quarantined"], "end": end.isoformat()})
    return summary
