"""`tradebot keys set|list|rotate|delete`: API keys in the keyring; values are never printed or logged."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="API keys in the OS keyring or an encrypted file keyring.")
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]
StdinOpt = Annotated[bool, typer.Option("--stdin", help="read the value from standard input")]


def _store_and_ledger(config: Path | None):  # type: ignore[no-untyped-def]
    from tradebot.adapters.secrets import open_secret_store
    from tradebot.config import load_settings
    from tradebot.store.db import open_ledger

    settings = load_settings(config)
    return open_secret_store(settings.home), open_ledger(settings.ledger_url)


def _read_value(name: str, stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(f"value for {name}", hide_input=True, confirmation_prompt=True)


def _audit(sessions, action: str, name: str, after: dict | None) -> None:  # type: ignore[no-untyped-def]
    from tradebot.store.audit import append_audit
    from tradebot.store.db import transaction

    with transaction(sessions) as s:
        append_audit(s, getpass.getuser(), action, f"secret:{name}", None, after)


@app.command("set")
def set_key(name: str, config: ConfigOpt = None, stdin: StdinOpt = False) -> None:
    """Store a key (prompted with hidden input, or read from stdin)."""
    store, sessions = _store_and_ledger(config)
    when = store.set(name, _read_value(name, stdin))
    _audit(sessions, "keys.set", name, {"rotated_at": when.isoformat()})
    typer.echo(f"{name} stored")


@app.command("rotate")
def rotate_key(name: str, config: ConfigOpt = None, stdin: StdinOpt = False) -> None:
    """Replace a stored key; running flows pick it up within the key cache's lifetime (30 s)."""
    store, sessions = _store_and_ledger(config)
    when = store.rotate(name, _read_value(name, stdin))
    _audit(sessions, "keys.rotate", name, {"rotated_at": when.isoformat()})
    typer.echo(f"{name} rotated")


@app.command("delete")
def delete_key(name: str, config: ConfigOpt = None) -> None:
    """Remove a key from the keyring."""
    store, sessions = _store_and_ledger(config)
    store.delete(name)
    _audit(sessions, "keys.delete", name, None)
    typer.echo(f"{name} deleted")


@app.command("list")
def list_keys(config: ConfigOpt = None) -> None:
    """Show key names, where each comes from, and when it was last rotated (never the values)."""
    store, _ = _store_and_ledger(config)
    for info in store.list():
        when = info.rotated_at.strftime("%Y-%m-%d %H:%M") + "Z" if info.rotated_at else "-"
        typer.echo(f"{info.name:20} {info.source:12} rotated {when:18} {info.description}")
