"""`tradebot alerts test [--channel NAME]`: send a test alert through each configured channel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(no_args_is_help=True, help="Alerts to Slack, email, Telegram and Discord.")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]


def router_for(config: Path | None) -> Any:
    """Build the alert router for the config, with channel secrets from the keyring."""
    from tradebot.alerts.setup import build_router
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    settings = load_settings(config)
    return build_router(settings, open_ledger(settings.ledger_url))


@app.command("test")
def test_alert(config: ConfigOpt = None,
               channel: Annotated[str | None, typer.Option(help="slack | email | telegram | discord")] = None) -> None:
    """Send a test alert (to every enabled channel, or just --channel) and print each outcome."""
    from tradebot.alerts import send_test_alert
    from tradebot.alerts.setup import alerts_config
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    settings = load_settings(config)
    results = send_test_alert(alerts_config(settings), open_ledger(settings.ledger_url), channel)
    if not results:
        typer.echo("no alert channel is enabled: set alerts.<channel>.enabled in the config")
        raise typer.Exit(1)
    for name, outcome in results.items():
        typer.echo(f"{name:9} {outcome}")
    if any(not str(v).startswith("sent") for v in results.values()):
        raise typer.Exit(1)
