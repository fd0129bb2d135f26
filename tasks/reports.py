"""Daily report tasks: read one day of the ledger, render it as markdown, publish it as a Prefect artifact."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from prefect.artifacts import create_markdown_artifact
from sqlalchemy.orm import Session, sessionmaker

from tasks.common import io_task
from tradebot.store.report_views import WindowReport, window_report


def _money(v: Decimal | None) -> str:
    return "n/a" if v is None else f"{v:,.2f}"


def render_daily_report(day: date, r: WindowReport) -> str:
    """Return the day's report as markdown: PnL, trades, orders, alerts and data quality."""
    pnl = r.pnl
    pct = f" ({pnl / r.start_equity:+.2%})" if pnl is not None and r.start_equity else ""
    lines = [
        f"# Daily report {day.isoformat()} — `{r.run_id}`", "",
        f"Window {r.start:%Y-%m-%d %H:%M}Z .. {r.end:%Y-%m-%d %H:%M}Z", "",
        "## PnL", "", "| | |", "|---|---|",
        f"| start equity | {_money(r.start_equity)} |", f"| end equity | {_money(r.end_equity)} |",
        f"| PnL | {_money(pnl)}{pct} |", f"| commissions | {_money(r.commissions)} |", "",
        f"## Trades ({len(r.trades)})", "",
    ]
    if r.trades:
        lines += ["| time (UTC) | symbol | side | qty | price | commission |", "|---|---|---|---|---|---|"]
        lines += [f"| {t.ts:%H:%M:%S} | {t.symbol} | {t.side} | {t.qty.normalize():f} | {t.price:,.4f} | "
                  f"{t.commission:,.2f} |" for t in r.trades]
    else:
        lines.append("No fills.")
    orders = ", ".join(f"{k} {v}" for k, v in sorted(r.orders_by_status.items())) or "none"
    lines += ["", f"Orders submitted: {orders}.", "", f"## Alerts ({sum(n for *_, n in r.alerts)})", ""]
    if r.alerts:
        lines += ["| kind | severity | count |", "|---|---|---|"]
        lines += [f"| {k} | {sev} | {n} |" for k, sev, n in r.alerts]
    else:
        lines.append("No alerts.")
    failed = r.quality_failed
    lines += ["", "## Data quality", "",
              f"{r.quality_batches} batches checked, {len(failed)} failed expectations, {r.quarantined} rows "
              "quarantined."]
    if failed:
        lines += ["", "| batch | expectation | unexpected |", "|---|---|---|"]
        lines += [f"| {b} | {e} | {n} |" for b, e, n in failed[:50]]
    return "\n".join(lines) + "\n"


@io_task(name="read-day-report")
def read_day_report(sessions: sessionmaker[Session], run_id: str, start: datetime, end: datetime) -> WindowReport:
    """Read run_id's activity in [start, end) from the ledger."""
    with sessions() as s:
        return window_report(s, run_id, start, end)


@io_task(name="publish-daily-report", retries=1)
def publish_daily_report(day: date, markdown: str) -> str:
    """Write the report as the `daily-report` markdown artifact; return its id."""
    return str(create_markdown_artifact(key="daily-report", markdown=markdown,
                                        description=f"Daily report for {day.isoformat()}"))
