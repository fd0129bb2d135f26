"""`tradebot reconcile`: converge the ledger to the broker now and print what differed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file (default ./tradebot.json)")]


def reconcile_command(config: ConfigOpt = None,
                      run: Annotated[str | None, typer.Option("--run", help="account / run id (default: "
                                                                            "paper.account)")] = None,
                      json_out: Annotated[bool, typer.Option("--json", help="print the full report as JSON")] = False,
                      ) -> None:
    """Reconcile positions, open orders and recent fills with the broker; exit 1 when a difference is left."""
    from flows.cli import _settings

    _settings(config, runnable=True)
    from flows.reconcile_positions import reconcile_positions

    result = reconcile_positions(config_path=str(config) if config else None, run_id=run)
    if json_out:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        typer.echo(f"{result['run_id']} at {result['broker']}: {result['drift']} drift item(s), fixed "
                   f"{result['fixed']}, ignored {result['ignored']} (outside positions: {result['policy']}), "
                   f"recovered {result['recovered']} stuck submission(s)")
        for item in result["items"]:
            typer.echo(f"  {item['kind']:<18} {item['symbol']:<10} {item['detail']}")
    if result["ignored"] or result["unresolved"]:
        raise typer.Exit(1)
