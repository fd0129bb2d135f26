"""Flow `handle_earnings`: on `tradebot.earnings.released`, store the report and run the trade cycle on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from flows.trade_cycle import cycle_steps
from tasks.ingest import ingest_earnings
from tasks.runtime import build_runtime
from tradebot.config import load_settings
from tradebot.store.marketdata import read_earnings


@flow(name="handle_earnings", log_prints=True, **FAILURE_HOOKS)
def handle_earnings(symbol: str, day: date | None = None, config_path: str | None = None,
                    now: datetime | None = None, lookback_minutes: int = 1440, overrides: dict | None = None) -> dict:
    """Refresh the earnings calendar, then run one trade cycle so earnings_drift acts on symbol's release.

    The whole cycle runs (not just one symbol) because sizing, correlation and exposure limits are portfolio-wide.
    """
    settings = load_settings(config_path, **(overrides or {}))
    symbol = symbol.strip().upper()
    if symbol not in settings.universe.symbols:
        return {"symbol": symbol, "skipped": f"{symbol} is not in the traded universe"}
    now = now or datetime.now(UTC)
    rt = build_runtime(settings, settings.paper.account, "paper", now)
    stored = ingest_earnings(rt, now)
    day = day or now.date()
    with rt.sessions() as s:
        known = [e for e in read_earnings(s, [symbol], day - timedelta(days=3), day) if e.eps_actual is not None]
    with rt.alerts:
        cycle = cycle_steps(rt, now - timedelta(minutes=lookback_minutes), now)
    return {"symbol": symbol, "day": day.isoformat(), "earnings": stored,
            "release": {"date": known[-1].date.isoformat(), "eps_actual": known[-1].eps_actual,
                        "surprise": known[-1].surprise} if known else None, "cycle": cycle}
