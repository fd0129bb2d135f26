"""Flow `ingest_prices`: fetch new bars since the last stored one, gate them, store the good rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.alerting import gate_alerts, send_alerts, switch_alerts
from tasks.ingest import fetch_bars, gate_and_store_bars
from tasks.runtime import build_runtime
from tradebot.adapters.feeds import FilePriceFeed
from tradebot.config import load_settings
from tradebot.prefect_events import prices_ingested
from tradebot.store.marketdata import last_bar_ts

DEFAULT_BACKFILL = timedelta(days=120)


@flow(name="ingest_prices", log_prints=True, **FAILURE_HOOKS)
def ingest_prices(config_path: str | None = None, end: datetime | None = None,
                  overrides: dict | None = None, assets: Literal["all", "stocks", "crypto"] = "all") -> dict:
    """Ingest bars incrementally up to end (default now); announce new ones with tradebot.prices.ingested."""
    settings = load_settings(config_path, **(overrides or {}))
    if assets != "all":  # stocks and crypto run on different clocks (see prefect.yaml)
        universe = {"stocks": settings.universe.stocks if assets == "stocks" else (),
                    "crypto": settings.universe.crypto if assets == "crypto" else ()}
        settings = load_settings(config_path, **{**(overrides or {}), "universe": universe})
        if not settings.universe.symbols:
            return {"rows": 0, "good": 0, "quarantined": 0, "assets": assets, "note": f"no {assets} configured"}
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
    with rt.sessions() as s:
        newest = last_bar_ts(s, rt.symbols, settings.data.timeframe)
    # Only bars newer than what was stored wake the trade cycle: a re-read file or an idle minute does not.
    fresh = sorted(sym for sym, ts in newest.items() if ts != last.get(sym))
    summary["new_symbols"] = fresh
    if fresh:
        prices_ingested(assets, settings.data.timeframe, summary["good"], summary["quarantined"], fresh, end)
    return summary
