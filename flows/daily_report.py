"""Flow `daily_report`: the day's PnL, trades, alerts and data quality as a markdown artifact and an alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tasks.reports import publish_daily_report, read_day_report, render_daily_report
from tradebot.config import load_settings
from tradebot.store.db import open_ledger

# The report follows the US session: its day runs midnight to midnight New York time.
MARKET_TZ = ZoneInfo("America/New_York")


def day_window(day: date, tz: ZoneInfo = MARKET_TZ) -> tuple[datetime, datetime]:
    """Return day's [start, end) in UTC, bounded by midnights in tz."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


@flow(name="daily_report", log_prints=True, **FAILURE_HOOKS)
def daily_report(day: date | None = None, config_path: str | None = None, overrides: dict | None = None,
                 account: str | None = None, alert: bool = True) -> dict:
    """Publish the day's report (default: today in New York) for the paper account, and send it as an alert."""
    from tradebot.alerts import DailyReport
    from tradebot.alerts.setup import build_router

    settings = load_settings(config_path, **(overrides or {}))
    day = day or datetime.now(MARKET_TZ).date()
    run_id = account or settings.paper.account
    start, end = day_window(day)
    sessions = open_ledger(settings.ledger_url)
    report = read_day_report(sessions, run_id, start, end)
    markdown = render_daily_report(day, report)
    artifact_id = publish_daily_report(day, markdown)
    sent = None
    if alert:
        failed = len(report.quality_failed)
        notes = (f"{run_id}: {len(report.trades)} fills, {sum(n for *_, n in report.alerts)} alerts, "
                 f"{failed} failed data-quality checks")
        with build_router(settings, sessions) as router:
            sent = router.send(DailyReport(day=day, equity=report.end_equity or Decimal(0),
                                           pnl=report.pnl or Decimal(0), orders=sum(report.orders_by_status.values()),
                                           fills=len(report.trades), notes=notes)).status
    return {"day": day.isoformat(), "run_id": run_id, "pnl": str(report.pnl) if report.pnl is not None else None,
            "end_equity": str(report.end_equity) if report.end_equity is not None else None,
            "fills": len(report.trades), "alerts": sum(n for *_, n in report.alerts), "artifact_id": artifact_id,
            "alert_status": sent, "markdown": markdown}
