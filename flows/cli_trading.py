"""`tradebot trading ...`: the kill switch, flatten, cancel orders, risk limits.

The CLI acts as the OS user with the admin role (whoever has a shell here already has the ledger and
the keyring); every action goes through tradebot.commands, the same functions the dashboard uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Kill switch, flatten, cancel orders, risk limits (audited).")
limits_app = typer.Typer(no_args_is_help=True, help="Show or change risk limits at run time (within bounds).")
app.add_typer(limits_app, name="limits")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="why (goes to the audit log)")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="who (default: the OS user)")]


def _sessions(config: Path | None):  # type: ignore[no-untyped-def]
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    return open_ledger(load_settings(config).ledger_url)


def _actor(name: str | None):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from tradebot.commands import cli_actor

    actor = cli_actor()
    return replace(actor, name=name) if name else actor


def _alert(config: Path | None, engaged: bool, actor: str, reason: str) -> None:
    from flows.cli_alerts import router_for
    from tradebot.alerts import KillSwitch

    with router_for(config) as router:
        router.send(KillSwitch(engaged=engaged, actor=actor, reason=reason))


@app.command()
def pause(reason: ReasonOpt, config: ConfigOpt = None, actor: ActorOpt = None) -> None:
    """Turn the kill switch on."""
    from tradebot.commands import pause_trading

    st = pause_trading(_sessions(config), _actor(actor), reason)
    _alert(config, True, st.actor, st.reason)
    typer.echo(f"trading paused by {st.actor}: {st.reason}")


@app.command()
def resume(reason: ReasonOpt, config: ConfigOpt = None, actor: ActorOpt = None) -> None:
    """Turn the kill switch off."""
    from tradebot.commands import resume_trading

    st = resume_trading(_sessions(config), _actor(actor), reason)
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


@app.command()
def flatten(symbol: str, reason: ReasonOpt, config: ConfigOpt = None, actor: ActorOpt = None,
            now: Annotated[bool, typer.Option("--now", help="send it to the broker now")] = False) -> None:
    """Write a market exit for the whole position in SYMBOL; --now sends it, else the next trade cycle does."""
    from tradebot.commands import configured_broker, flatten_position
    from tradebot.config import load_settings

    settings = load_settings(config)
    sessions = _sessions(config)
    broker = configured_broker(settings, sessions) if now else None
    r = flatten_position(sessions, _actor(actor), settings.paper.account, symbol, reason, broker=broker)
    what = "wrote" if r.created else "already written:"
    tail = (f"broker status {r.order_status}" + (f" ({r.reject_reason})" if r.reject_reason else "") if now
            else "the next trade cycle sends it (exits go out even while paused)")
    typer.echo(f"{what} {r.side} {r.qty} {r.symbol} at market ({r.client_order_id}); {tail}")


@app.command("cancel-orders")
def cancel_orders(symbol: Annotated[str | None, typer.Argument(help="only this symbol's orders")] = None,
                  reason: ReasonOpt = "", config: ConfigOpt = None, actor: ActorOpt = None) -> None:
    """Cancel the standing account's working orders (all, or SYMBOL's) at the broker and in the ledger."""
    from tradebot.commands import cancel_open_orders, configured_broker
    from tradebot.config import load_settings

    settings = load_settings(config)
    sessions = _sessions(config)
    r = cancel_open_orders(sessions, _actor(actor), settings.paper.account, configured_broker(settings, sessions),
                           symbol, reason)
    if not r.outcomes:
        typer.echo("no working orders" + (f" for {symbol.upper()}" if symbol else ""))
    for cid, outcome in r.outcomes.items():
        typer.echo(f"{cid}: {outcome}")


@limits_app.command("show")
def limits_show(config: ConfigOpt = None, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective risk limits and which ones are overridden at run time."""
    from tradebot.commands import effective_risk, risk_overrides
    from tradebot.config import load_settings

    base = load_settings(config).risk
    with _sessions(config)() as s:
        eff, over = effective_risk(s, base), risk_overrides(s)
    values = eff.model_dump(mode="json")
    if json_out:
        typer.echo(json.dumps({"effective": values, "overridden": sorted(over)}))
        return
    for k, v in values.items():
        typer.echo(f"{k:26} {v!s:>10}" + ("   (override; config: " + str(getattr(base, k)) + ")" if k in over else ""))


@limits_app.command("set")
def limits_set(changes: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs, e.g. max_position_weight=0.1")],
               reason: ReasonOpt = "", config: ConfigOpt = None, actor: ActorOpt = None) -> None:
    """Change risk limits within their bounds; a value equal to the config file's removes the override."""
    from tradebot.commands import CommandError, set_risk_limits
    from tradebot.config import load_settings

    parsed = {}
    for item in changes:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"expected KEY=VALUE, got {item!r}")
        parsed[key.strip()] = value.strip()
    eff = set_risk_limits(_sessions(config), _actor(actor), load_settings(config).risk, parsed, reason)
    typer.echo(", ".join(f"{k} = {getattr(eff, k)}" for k in parsed))
