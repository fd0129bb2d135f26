"""`tradebot trading pause|resume|status`: the kill switch."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Kill switch: pause or resume new orders (protective exits still run).")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="why (goes to the audit log)")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="who (default: the OS user)")]


def _sessions(config: Path | None):  # type: ignore[no-untyped-def]
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    return open_ledger(load_settings(config).ledger_url)


def _alert(config: Path | None, engaged: bool, actor: str, reason: str) -> None:
    from flows.cli_alerts import router_for
    from tradebot.alerts import KillSwitch

    with router_for(config) as router:
        router.send(KillSwitch(engaged=engaged, actor=actor, reason=reason))


@app.command()
def pause(reason: ReasonOpt, config: ConfigOpt = None, actor: ActorOpt = None) -> None:
    """Turn the kill switch on."""
    from tradebot.commands import pause_trading

    st = pause_trading(_sessions(config), actor or getpass.getuser(), reason)
    _alert(config, True, st.actor, st.reason)
    typer.echo(f"trading paused by {st.actor}: {st.reason}")


@app.command()
def resume(reason: ReasonOpt, config: ConfigOpt = None, actor: ActorOpt = None) -> None:
    """Turn the kill switch off."""
    from tradebot.commands import resume_trading

    st = resume_trading(_sessions(config), actor or getpass.getuser(), reason)
    _alert(config, False, st.actor, st.reason)
    typer.echo(f"trading resumed by {st.actor}: {st.reason}")


@app.command()
def status(config: ConfigOpt = None, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show whether trading is paused, by whom and why."""
    from tradebot.commands import trading_status

    st = trading_status(_sessions(config))
    if json_out:
        typer.echo(json.dumps({"paused": st.paused, "actor": st.actor, "reason": st.reason,
                               "updated_at": st.updated_at.isoformat() if st.updated_at else None}))
    else:
        typer.echo(f"trading {'PAUSED' if st.paused else 'active'}"
                   + (f" (set by {st.actor} at {st.updated_at:%Y-%m-%d %H:%M}Z: {st.reason})" if st.updated_at else ""))
