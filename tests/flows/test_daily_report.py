"""The daily report: one New York day of the ledger as a markdown artifact and a DailyReport alert."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

from prefect.artifacts import Artifact
from sqlalchemy import select

from flows.daily_report import MARKET_TZ, daily_report, day_window
from tradebot.store.ops import AlertRow
from tradebot.store.trading import EquitySnapshotRow, FillRow


def test_a_day_window_runs_midnight_to_midnight_new_york_across_a_dst_change():
    start, end = day_window(date(2026, 11, 1))  # clocks go back that night: a 25-hour day
    assert start == datetime(2026, 11, 1, 4, tzinfo=UTC) and end == datetime(2026, 11, 2, 5, tzinfo=UTC)


def test_the_report_shows_the_days_pnl_trades_alerts_and_data_quality(replayed, sessions):
    url, first, _ = replayed
    run_id = first["run_id"]
    with sessions() as s:
        fills = s.scalars(select(FillRow).where(FillRow.run_id == run_id)).all()
        busiest = Counter(f.ts.astimezone(MARKET_TZ).date() for f in fills).most_common(1)[0][0]
        start, end = day_window(busiest)
        snaps = s.scalars(select(EquitySnapshotRow).where(EquitySnapshotRow.run_id == run_id)
                          .order_by(EquitySnapshotRow.ts, EquitySnapshotRow.id)).all()
    day_fills = [f for f in fills if start <= f.ts < end]
    before = [x.equity for x in snaps if x.ts < start]
    upto = [x.equity for x in snaps if x.ts < end]
    assert before and upto, "the replay must have snapshots on both sides of the day"

    out = daily_report(day=busiest, overrides={"database_url": url}, account=run_id)

    assert Decimal(out["pnl"]) == upto[-1] - before[-1]
    assert Decimal(out["end_equity"]) == upto[-1]
    assert out["fills"] == len(day_fills) > 0
    md = out["markdown"]
    for heading in ("## PnL", f"## Trades ({len(day_fills)})", "## Alerts", "## Data quality"):
        assert heading in md
    assert all(f.symbol in md for f in day_fills)
    assert "batches checked" in md and "0 batches checked" not in md
    artifact = Artifact.get("daily-report")
    assert artifact is not None and artifact.data == md
    with sessions() as s:
        alert = s.scalars(select(AlertRow).where(AlertRow.kind == "daily_report",
                                                 AlertRow.key == f"daily_report:{busiest.isoformat()}")).one()
    assert run_id in alert.message and out["alert_status"] in {"sent", "suppressed"}


def test_a_day_without_activity_reports_no_fills_and_an_unchanged_equity(replayed):
    url, first, _ = replayed
    out = daily_report(day=date(2030, 1, 2), overrides={"database_url": url}, account=first["run_id"], alert=False)
    assert out["fills"] == 0 and Decimal(out["pnl"]) == 0
    assert "No fills." in out["markdown"] and out["alert_status"] is None
