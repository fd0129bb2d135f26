"""`tradebot users add|list|disable|enable|set-role`: dashboard accounts (the CLI acts as an admin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Dashboard users and their roles (viewer, trader, admin).")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]


def _sessions(config: Path | None):  # type: ignore[no-untyped-def]
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    return open_ledger(load_settings(config).ledger_url)


@app.command()
def add(name: str,
        role: Annotated[str, typer.Option("--role", help="viewer | trader | admin")] = "viewer",
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
        config: ConfigOpt = None) -> None:
    """Create a user; the password is asked twice (or read from stdin) and stored as an argon2 hash."""
    from tradebot.auth import AuthError, Role, check_name
    from tradebot.commands import add_user, cli_actor

    check_name(name)
    Role.parse(role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True)
        if typer.prompt("password (again)", hide_input=True) != password:
            raise AuthError("the two passwords differ: nothing was stored")
    add_user(_sessions(config), cli_actor(), name, password, role)
    typer.echo(f"user {name} added with role {role.lower()}")


@app.command("list")
def list_(config: ConfigOpt = None) -> None:
    """List users: name, role, disabled, created, last login."""
    from tradebot.commands import list_users

    users = list_users(_sessions(config))
    if not users:
        typer.echo("no users yet: `tradebot users add NAME --role admin`")
    for u in users:
        last = f"{u['last_login']:%Y-%m-%d %H:%M}Z" if u["last_login"] else "never"
        typer.echo(f"{u['name']:20} {u['role']:8} {'DISABLED' if u['disabled'] else 'active':9} last login {last}")


@app.command()
def disable(name: str, config: ConfigOpt = None) -> None:
    """Disable a user (their open dashboard sessions lose every control at once)."""
    from tradebot.commands import cli_actor, set_user_disabled

    set_user_disabled(_sessions(config), cli_actor(), name, True)
    typer.echo(f"user {name} disabled")


@app.command()
def enable(name: str, config: ConfigOpt = None) -> None:
    """Re-enable a disabled user."""
    from tradebot.commands import cli_actor, set_user_disabled

    set_user_disabled(_sessions(config), cli_actor(), name, False)
    typer.echo(f"user {name} enabled")


@app.command("set-role")
def set_role(name: str, role: str, config: ConfigOpt = None) -> None:
    """Change a user's role (viewer | trader | admin)."""
    from tradebot.commands import cli_actor, set_user_role

    set_user_role(_sessions(config), cli_actor(), name, role)
    typer.echo(f"user {name} is now {role.lower()}")
