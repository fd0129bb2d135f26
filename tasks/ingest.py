"""Ingestion tasks: fetch from a feed, pass the quality gate, store the good rows, quarantine the rest."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd

from tasks.common import compute_task, io_task
from tasks.runtime import Runtime
from tradebot.domain import NewsItem
from tradebot.quality import validate_bars, validate_news
from tradebot.store.db import transaction
from tradebot.store.marketdata import read_bars, upsert_bars, upsert_earnings, upsert_news
from tradebot.store.quality import record_gate


@io_task(name="fetch-bars")
def fetch_bars(rt: Runtime, start: datetime, end: datetime) -> pd.DataFrame:
    """Request bars of every traded symbol with start <= ts < end from the price feed."""
    return rt.prices.request_bars(rt.symbols, start, end)


@compute_task(name="gate-and-store-bars")
def gate_and_store_bars(rt: Runtime, bars: pd.DataFrame, batch: str, now: datetime) -> dict:
    """Validate a bar batch and store only rows that pass; returns the gate summary."""
    with rt.sessions() as s:
        symbols = sorted(bars["symbol"].unique()) if len(bars) else []
        # Stored bars just before the batch let the gate judge a new bar's jump against the real series.
        before = bars["ts"].min() - timedelta(microseconds=1) if symbols else now
        history = read_bars(s, symbols, rt.settings.data.timeframe, None, before).groupby("symbol").tail(40) \
            if symbols else None
    data = rt.settings.data
    # A file is history: only live feeds are judged for freshness (future timestamps are refused for all).
    staleness = None if data.source == "file" else timedelta(hours=data.max_staleness_hours)
    outcome = validate_bars(bars, batch=batch, now=now, max_staleness=staleness, jump_sigmas=data.jump_sigmas,
                            last_stored=history)
    with transaction(rt.sessions) as s:
        upsert_bars(s, outcome.good, rt.prices.name, now)
        record_gate(s, outcome, now)
    summary = outcome.summary()
    bad = outcome.quarantined
    summary["quarantined_symbols"] = sorted(bad["symbol"].dropna().astype(str).unique()) if len(bad) else []
    _gate_artifact(summary)
    return summary


@io_task(name="fetch-news")
def fetch_news(rt: Runtime, start: datetime, end: datetime) -> list[NewsItem]:
    """Request news about the traded symbols published in [start, end)."""
    return list(rt.news.request_news(rt.symbols, start, end)) if rt.news is not None else []


@compute_task(name="gate-and-store-news")
def gate_and_store_news(rt: Runtime, items: list[NewsItem], batch: str, now: datetime) -> dict:
    """Validate news items and store those that pass."""
    outcome = validate_news(items, batch=batch, now=now)
    with transaction(rt.sessions) as s:
        new = upsert_news(s, outcome.good)
        record_gate(s, outcome, now)
    summary = {**outcome.summary(), "new": new}
    _gate_artifact(summary)
    return summary


def _gate_artifact(summary: dict) -> None:
    """Leave the batch's verdict in Prefect (the UI's Artifacts tab), one table row per expectation failed."""
    from prefect.artifacts import create_table_artifact

    rows = [{"expectation": name, "unexpected": n} for name, n in sorted(summary["failed"].items())]
    create_table_artifact(
        key=f"data-quality-{summary['kind']}", table=rows or [{"expectation": "all", "unexpected": 0}],
        description=(f"{summary['batch']}: {summary['good']} good, {summary['quarantined']} quarantined"
                     f"{'' if summary['success'] else ' (FAILED)'}"),
    )


@io_task(name="ingest-earnings")
def ingest_earnings(rt: Runtime, now: datetime) -> dict:
    """Fetch the earnings calendar as known at now; store valid events, report the invalid ones."""
    if rt.news is None or not hasattr(rt.news, "request_earnings"):
        return {"events": 0, "invalid": 0}
    events = rt.news.request_earnings(rt.symbols, now)
    # Numbers must be finite where present; anything else would poison surprise math downstream.
    good = [e for e in events if all(v is None or math.isfinite(v) for v in
                                     (e.eps_estimate, e.eps_actual, e.revenue_estimate, e.revenue_actual))]
    with transaction(rt.sessions) as s:
        upsert_earnings(s, good, rt.news.name)
    return {"events": len(good), "invalid": len(events) - len(good)}
