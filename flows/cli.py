"""The `tradebot` command line. Imports stay lazy so `--help` is instant."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.cli_alerts import app as alerts_app
from flows.cli_audit import app as audit_app
from flows.cli_backtest import app as backtest_app
from flows.cli_data import quality_app
from flows.cli_execution import reconcile_command
from flows.cli_keys import app as keys_app
from flows.cli_sentiment import app as sentiment_app
from flows.cli_services import register as register_services
from flows.cli_trading import app as trading_app
from flows.cli_users import app as users_app
from flows.cli_worker import metrics_app, worker_command
from tradebot.errors import TradebotError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Automated multi-asset trading bot.")
db_app = typer.Typer(no_args_is_help=True, help="Ledger schema migrations.")
ingest_app = typer.Typer(no_args_is_help=True, help="Run ingestion flows now.")
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(trading_app, name="trading")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(alerts_app, name="alerts")
app.add_typer(quality_app, name="quality")
app.add_typer(metrics_app, name="metrics")
app.add_typer(users_app, name="users")
app.command("worker")(worker_command)
app.command("reconcile")(reconcile_command)
app.registered_commands += backtest_app.registered_commands  # `tradebot backtest` and `tradebot sweep`
register_services(app)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file (default ./tradebot.json)")]
_state: dict[str, Any] = {"debug": False, "verbose": False}


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
          verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
          log_json: Annotated[bool, typer.Option("--log-json", help="Log one JSON object per line.")] = False) -> None:
    _state.update(debug=debug, verbose=verbose, log_json=log_json)


def _settings(config: Path | None, runnable: bool = False, **overrides: Any):  # type: ignore[no-untyped-def]
    from flows.environment import prepare
    from tradebot.config import load_settings

    settings = load_settings(config, **overrides)
    from tradebot.logs import REDACTOR, configure_logging, install_record_factory, install_redaction

    # Secrets are registered before any client can log: the redaction filter masks them everywhere.
    REDACTOR.register_model(settings)
    if _state["debug"] or _state["verbose"] or _state.get("log_json"):
        configure_logging("DEBUG" if _state["debug"] else "INFO", json=_state.get("log_json", False))
    else:  # quiet: the command prints its own result or one error line; redaction still applies
        install_redaction()
        install_record_factory(REDACTOR)
    if runnable:
        # Before a Prefect server starts, so missing keys or a misspelt strategy fail in milliseconds.
        settings.require_runnable()
        _check_strategies(settings)
    prepare(settings, verbose=_state["verbose"])
    return settings


def _check_strategies(settings: Any) -> None:
    from strategies import create
    from tradebot.errors import ConfigError

    for i, spec in enumerate(settings.strategies):
        try:
            create(spec.name, **spec.params)
        except ValueError as exc:
            raise ConfigError(f"config: strategies[{i}] ({spec.name}): {exc}") from None


@app.command("strategies")
def strategies_cmd() -> None:
    """List the strategies that can be named in the config."""
    from strategies import available

    typer.echo("\n".join(available()))


@app.command()
def init(path: Annotated[Path, typer.Argument()] = Path("tradebot.json"),
         force: Annotated[bool, typer.Option("--force")] = False) -> None:
    """Write a documented example config file."""
    from flows.example_config import write_example

    write_example(path, force)
    typer.echo(f"wrote {path}; edit it, then run `tradebot demo` or `tradebot config`")


@app.command("config")
def config_show(config: ConfigOpt = None) -> None:
    """Validate the config and print it (secrets redacted)."""
    s = _settings(config)
    typer.echo(s.model_dump_json(indent=2))


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None, revision: str = "head") -> None:
    """Apply migrations to the ledger."""
    from tradebot.store.db import redact_url, upgrade

    s = _settings(config)
    upgrade(s.ledger_url, revision)
    typer.echo(f"ledger {redact_url(s.ledger_url)} at {revision}")


@db_app.command("downgrade")
def db_downgrade(config: ConfigOpt = None, revision: str = "-1") -> None:
    """Revert ledger migrations (default: one step)."""
    from tradebot.store.db import downgrade, redact_url

    s = _settings(config)
    downgrade(s.ledger_url, revision)
    typer.echo(f"ledger {redact_url(s.ledger_url)} downgraded to {revision}")


@db_app.command("current")
def db_current(config: ConfigOpt = None) -> None:
    """Print the ledger's schema revision and the newest one shipped."""
    from tradebot.store.db import check_reachable, current_revision, head_revision, make_engine

    engine = make_engine(_settings(config).ledger_url)
    check_reachable(engine)
    typer.echo(f"current {current_revision(engine) or 'none'}; head {head_revision()}")


@ingest_app.command("prices")
def ingest_prices_cmd(config: ConfigOpt = None,
                      source: Annotated[str | None, typer.Option(help="synthetic | file")] = None,
                      path: Annotated[Path | None, typer.Option(help="bar file or folder (source file)")] = None,
                      symbols: Annotated[str | None, typer.Option(help="comma-separated stock symbols")] = None,
                      ) -> None:
    """Fetch, validate and store new bars."""
    overrides = _data_overrides(config, source, path, symbols)
    _settings(config, runnable=True, **overrides)
    from flows.ingest_prices import ingest_prices

    _print_json(ingest_prices(config_path=str(config) if config else None, overrides=overrides))


@ingest_app.command("news")
def ingest_news_cmd(config: ConfigOpt = None,
                    lookback_minutes: Annotated[int, typer.Option(min=1)] = 60,
                    source: Annotated[str | None, typer.Option(help="file: read --path instead of the feed")] = None,
                    path: Annotated[Path | None, typer.Option(help="JSON-lines news file (source file)")] = None,
                    ) -> None:
    """Fetch, validate, store and score news (recent from the feed, or a whole file)."""
    overrides: dict[str, Any] = {}
    if source not in (None, "file") or (source == "file") != (path is not None):
        raise typer.BadParameter("use --source file together with --path FILE", param_hint="--source")
    if path is not None:
        from tradebot.config import load_settings

        overrides["data"] = {**load_settings(config).data.model_dump(mode="json"), "news_path": str(path)}
    _settings(config, runnable=True, **overrides)
    from flows.ingest_news import ingest_news

    _print_json(ingest_news(config_path=str(config) if config else None, lookback_minutes=lookback_minutes,
                            overrides=overrides))


@app.command("backfill")
def backfill_cmd(start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD")],
                 end: Annotated[str, typer.Option(help="day after the last, YYYY-MM-DD")],
                 config: ConfigOpt = None,
                 symbols: Annotated[str | None, typer.Option(help="comma-separated; default the universe")] = None,
                 chunk_days: Annotated[int, typer.Option(min=1)] = 30) -> None:
    """Load bars for a date range through the quality gate, with a progress bar."""
    from flows.cli_data import backfill

    _print_json(backfill(_settings, config, symbols, start, end, chunk_days))


@app.command()
def cycle(config: ConfigOpt = None) -> None:
    """Run one trade cycle now on the standing paper account."""
    _settings(config, runnable=True)
    from flows.trade_cycle import trade_cycle

    _print_json(trade_cycle(config_path=str(config) if config else None))


@app.command()
def replay(config: ConfigOpt = None, days: Annotated[int, typer.Option(min=1, max=2000)] = 60,
           end: Annotated[str | None, typer.Option(help="last day, YYYY-MM-DD")] = None,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Replay N trading days through the flows under a new run id."""
    _settings(config, runnable=True)
    from flows.demo import print_summary
    from flows.replay import replay as replay_flow

    summary = replay_flow(days=days, end=date.fromisoformat(end) if end else None,
                          config_path=str(config) if config else None, show_progress=not json_out)
    _print_json(summary) if json_out else print_summary(summary)


@app.command()
def demo(config: ConfigOpt = None, days: Annotated[int, typer.Option(min=1, max=2000)] = 60,
         reset: Annotated[bool, typer.Option("--reset", help="delete .tradebot first")] = False) -> None:
    """Replay ~60 days of built-in data through every flow and print what happened."""
    from flows.demo import run_demo

    run_demo(config, days, reset, _settings)


@app.command()
def dashboard(config: ConfigOpt = None, port: int = 8501) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1."""
    import os
    import subprocess

    from tradebot.store.db import open_ledger

    s = _settings(config)
    open_ledger(s.ledger_url)  # migrated before serving: the login page needs the users table
    app_path = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    env = {**os.environ, "TRADEBOT_DASHBOARD_LEDGER_URL": s.ledger_url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           **({"TRADEBOT_DASHBOARD_CONFIG_FILE": str(config.resolve())} if config else {})}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true", "--client.toolbarMode", "viewer"]
    raise SystemExit(subprocess.call(cmd, env=env))


def _data_overrides(config: Path | None, source: str | None, path: Path | None, symbols: str | None) -> dict:
    from tradebot.config import load_settings

    base = load_settings(config)
    out: dict[str, Any] = {}
    if source or path:
        out["data"] = {**base.data.model_dump(mode="json"), **({"source": source} if source else {}),
                       **({"path": str(path)} if path else {})}
    if symbols:
        out["universe"] = {"stocks": [x for x in symbols.split(",") if x], "crypto": []}
    return out


def _print_json(obj: object) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


def main() -> None:
    """Entry point: run the app; user errors print one line and exit 2 (tracebacks only with --debug)."""
    try:
        code = app(standalone_mode=False)
        # Without standalone mode click returns typer.Exit's code instead of exiting with it.
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except TradebotError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # click usage errors carry their own exit code
        # typer ships its own copy of click, so usage errors are not click.ClickException: recognise
        # them by what every click exception offers (show() and an exit code).
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if _state["debug"]:
            raise
        typer.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        raise SystemExit(1) from None
