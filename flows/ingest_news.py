"""Flow `ingest_news`: fetch news since the last run, gate it, store it, score its sentiment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.alerting import gate_alerts, send_alerts
from tasks.ingest import fetch_news, gate_and_store_news
from tasks.runtime import build_runtime
from tasks.sentiment import score_sentiment
from tradebot.adapters.news_files import FileNewsFeed
from tradebot.config import load_settings


@flow(name="ingest_news", log_prints=True, **FAILURE_HOOKS)
def ingest_news(config_path: str | None = None, end: datetime | None = None, lookback_minutes: int = 60,
                overrides: dict | None = None) -> dict:
    """Ingest news published in the lookback window before end (duplicates are ignored) and score it."""
    settings = load_settings(config_path, **(overrides or {}))
    end = end or datetime.now(UTC)
    rt = build_runtime(settings, settings.paper.account, "paper", end)
    # A news file is loaded whole (duplicates are ignored on store); a provider is asked for the window.
    start = rt.news.span()[0] if isinstance(rt.news, FileNewsFeed) else end - timedelta(minutes=lookback_minutes)
    items = fetch_news(rt, start, end + timedelta(microseconds=1) if isinstance(rt.news, FileNewsFeed) else end)
    summary = gate_and_store_news(rt, items, f"news-{end:%Y%m%dT%H%M%S}", end)
    with rt.alerts:
        send_alerts(rt, gate_alerts(summary))
    summary["scored"] = score_sentiment(rt, end)
    return summary
