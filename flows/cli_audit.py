"""`tradebot audit verify|show`: check the audit log's hash chain, list recent entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]


def _sessions(config: Path | None):  # type: ignore[no-untyped-def]
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    return open_ledger(load_settings(config).ledger_url)


@app.command()
def verify(config: ConfigOpt = None) -> None:
    """Recompute the hash chain; exit 1 naming the first broken entry."""
    from tradebot.store.audit import verify_chain

    with _sessions(config)() as s:
        report = verify_chain(s)
    if report.ok:
        typer.echo(f"audit log intact: {report.entries} entries verified")
        return
    typer.echo(f"audit log BROKEN at entry {report.first_broken_id}: {report.problem}", err=True)
    raise typer.Exit(1)


@app.command()
def show(config: ConfigOpt = None, limit: int = 20) -> None:
    """Print the newest entries as JSON lines."""
    from sqlalchemy import select

    from tradebot.store.ops import AuditRow

    with _sessions(config)() as s:
        rows = s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)).all()
    for r in rows:
        typer.echo(json.dumps({"id": r.id, "ts": r.ts.isoformat(), "actor": r.actor, "action": r.action,
                               "target": r.target, "before": r.before, "after": r.after, "reason": r.reason}))
