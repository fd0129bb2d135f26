"""`tradebot backfill` and `tradebot quality report`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

quality_app = typer.Typer(no_args_is_help=True, help="Data-quality results of the validation gate.")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]


def parse_day(text: str, flag: str) -> datetime:
    """Parse YYYY-MM-DD (or an ISO time) as UTC; BadParameter names the flag."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2024-01-31", param_hint=flag) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def backfill(settings_fn: Any, config: Path | None, symbols: str | None, start: str, end: str,
             chunk_days: int) -> dict:
    """Run the backfill flow for the symbols (default: the configured universe)."""
    overrides: dict[str, Any] = {}
    if symbols:
        names = [x.strip().upper() for x in symbols.split(",") if x.strip()]
        overrides["universe"] = {"stocks": [n for n in names if "/" not in n], "crypto": [n for n in names if "/" in n]}
    settings_fn(config, runnable=True, **overrides)
    from flows.backfill import backfill_prices

    return backfill_prices(parse_day(start, "--start"), parse_day(end, "--end"),
                           config_path=str(config) if config else None, chunk_days=chunk_days,
                           overrides=overrides, show_progress=True)


@quality_app.command("report")
def report(config: ConfigOpt = None, limit: int = 20,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the latest validation results: batch, expectation, unexpected count, quarantined rows."""
    from sqlalchemy import func, select

    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger
    from tradebot.store.ops import DataQualityRow, QuarantineRow

    sessions = open_ledger(load_settings(config).ledger_url)
    with sessions() as s:
        # Newest written first (ids), not newest checked_at: a replay stamps simulated times.
        batches = s.execute(select(DataQualityRow.batch, func.max(DataQualityRow.id))
                            .group_by(DataQualityRow.batch).order_by(func.max(DataQualityRow.id).desc())
                            .limit(limit)).all()
        out = []
        for batch, _ in batches:
            rows = s.scalars(select(DataQualityRow).where(DataQualityRow.batch == batch)).all()
            quarantined = s.scalar(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.batch == batch))
            out.append({"batch": batch, "kind": rows[0].kind, "checked_at": rows[0].checked_at.isoformat(),
                        "success": all(r.success for r in rows), "quarantined_rows": int(quarantined or 0),
                        "expectations": [{"expectation": r.expectation, "column": r.column, "success": r.success,
                                          "unexpected_count": r.unexpected_count, "element_count": r.element_count}
                                         for r in rows]})
    if json_out:
        typer.echo(json.dumps(out, indent=2))
        return
    for b in out:
        failed = [f"{e['expectation']} {e['unexpected_count']}" for e in b["expectations"] if not e["success"]]
        typer.echo(f"{b['checked_at'][:19]}  {b['kind']:5} {b['batch']:40} "
                   f"{'ok' if b['success'] else 'FAILED: ' + ', '.join(failed)}  quarantined {b['quarantined_rows']}")
