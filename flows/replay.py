"""Flow `replay`: step a simulated clock day by day through the same tasks the live flows use."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from flows.trade_cycle import cycle_steps
from tasks.alerting import gate_alerts, report_alert, send_alerts
from tasks.ingest import fetch_bars, fetch_news, gate_and_store_bars, gate_and_store_news, ingest_earnings
from tasks.runtime import build_runtime
from tasks.summary import record_day, replay_summary
from tradebot.calendars import nyse
from tradebot.config import load_settings
from tradebot.errors import ConfigError
from tradebot.store import ledger
from tradebot.store.db import transaction

# Fixed so that every machine replays the same seeded days and prints the same figures.
DEFAULT_END = date(2026, 10, 30)
WARMUP = timedelta(days=120)
DAY = timedelta(days=1)


def replay_days(sessions: int, end: date) -> list[date]:
    """Return the calendar days covering the last `sessions` NYSE sessions up to end."""
    cal = nyse()
    last = cal.date_to_session(end.isoformat(), direction="previous")
    first = cal.session_offset(last, -(sessions - 1))
    return [first.date() + timedelta(days=i) for i in range((last - first).days + 1)]


@flow(name="replay", log_prints=True, **FAILURE_HOOKS)
def replay(days: int = 60, end: date | None = None, config_path: str | None = None, run_id: str | None = None,
           show_progress: bool = False, artifacts: bool = True, overrides: dict | None = None) -> dict:
    """Replay `days` trading days (crypto trades every calendar day in between) under a new run id."""
    if not 1 <= days <= 2000:
        raise ValueError(f"days must be between 1 and 2000, got {days}")
    settings = load_settings(config_path, **(overrides or {}))
    if settings.data.timeframe != "1Day":
        raise ConfigError(f"replay steps in days: data.timeframe must be 1Day, got {settings.data.timeframe}")
    calendar_days = replay_days(days, end or DEFAULT_END)
    start = datetime.combine(calendar_days[0], time(), UTC)
    run_id = run_id or f"replay-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    until = datetime.combine(calendar_days[-1], time(), UTC) + DAY
    rt = build_runtime(settings, run_id, "replay", start, start=start - WARMUP, until=until)
    with rt.alerts, Progress(show_progress, len(calendar_days)) as advance:
        # Warm-up history so indicators and charts have context before the first simulated day.
        gate_and_store_bars(rt, fetch_bars(rt, start - WARMUP, start), f"bars-{run_id}-warmup", start)
        gate_and_store_news(rt, fetch_news(rt, start - timedelta(days=7), start), f"news-{run_id}-warmup", start)
        prev_equity = settings.paper.initial_cash
        for day in calendar_days:
            since = datetime.combine(day, time(), UTC)
            now = since + DAY  # the day's bars are complete at midnight UTC
            bars = gate_and_store_bars(rt, fetch_bars(rt, since, now), f"bars-{run_id}-{day}", now)
            news = gate_and_store_news(rt, fetch_news(rt, since, now), f"news-{run_id}-{day}", now)
            ingest_earnings(rt, now)
            gate_events = [*gate_alerts(bars), *gate_alerts(news)]
            if gate_events:
                send_alerts(rt, gate_events)
            result = cycle_steps(rt, since, now, artifacts=artifacts)
            prev_equity = record_day(rt, day, prev_equity, result)
            advance(day, result)
        with transaction(rt.sessions) as s:
            ledger.finish_run(s, run_id, "completed", datetime.now(UTC))
        summary = replay_summary(rt, calendar_days)
        send_alerts(rt, [report_alert(calendar_days[-1], summary)])
    return summary


class Progress:
    """A rich progress bar when asked for, else nothing."""

    def __init__(self, enabled: bool, total: int, label: str = "replay") -> None:
        self.enabled, self.total, self.label = enabled, total, label

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not self.enabled:
            return lambda day, result: None
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._p = RichProgress(TextColumn(self.label + " {task.fields[day]}"), BarColumn(), MofNCompleteColumn(),
                               TextColumn("{task.fields[equity]}"), TimeElapsedColumn())
        self._p.start()
        task = self._p.add_task("replay", total=self.total, day="", equity="")

        def advance(day: date, result: dict) -> None:
            self._p.update(task, advance=1, day=day.isoformat(), equity=str(result["equity"]))

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._p.stop()
