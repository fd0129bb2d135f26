"""`tradebot up|down|status|run`: the local services (Prefect server, worker, sentinel, dashboard) and manual runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]
ROOT = Path(__file__).resolve().parents[1]


def _supervisor(config: Path | None, quiet: bool = False):  # type: ignore[no-untyped-def]
    from flows.environment import prepare
    from tradebot.config import load_settings
    from tradebot.services.supervisor import Supervisor

    settings = load_settings(config)
    prepare(settings)
    return Supervisor(settings, ROOT, config, log=(lambda _m: None) if quiet else (lambda m: typer.echo(f"  {m}")))


def up(config: ConfigOpt = None,
       no_sentinel: Annotated[bool, typer.Option("--no-sentinel", help="Do not start the stop sentinel")] = False,
       no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Do not start the dashboard")] = False,
       ) -> None:
    """Start the Prefect server, deploy prefect.yaml, start a worker, the sentinel and the dashboard."""
    sup = _supervisor(config)
    t0 = time.monotonic()
    typer.echo("starting tradebot services")
    report = sup.up(sentinel=not no_sentinel, dashboard=not no_dashboard)
    for name in report.skipped:
        typer.echo(f"  skipped deployment {name}")
    for note in report.notes:
        typer.echo(f"  {note}")
    _print_status(report.statuses)
    typer.echo(f"all healthy in {time.monotonic() - t0:.1f}s")
    typer.echo(f"Prefect UI  {sup.ui_url}\nDashboard   {sup.dashboard_url}\nMetrics     {sup.metrics_url}\n"
               f"Logs, pids  {sup.run.root}/<service>.log|.pid   (`tradebot down` stops them)")


def down(config: ConfigOpt = None) -> None:
    """Stop exactly the processes `tradebot up` started (SIGTERM, then SIGKILL after a grace period)."""
    sup = _supervisor(config, quiet=True)
    t0 = time.monotonic()
    outcomes = sup.down()
    for name, outcome in outcomes.items():
        typer.echo(f"{name:15s} {outcome}")
    typer.echo("nothing was running" if not outcomes else f"down in {time.monotonic() - t0:.1f}s")


def status(config: ConfigOpt = None, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show each service's pid and health; exit 1 when any started service is unhealthy."""
    sup = _supervisor(config, quiet=True)
    statuses = sup.status()
    if json_out:
        typer.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
    else:
        _print_status(statuses)
    if any(s.pid is not None and not s.healthy for s in statuses):
        raise typer.Exit(1)


def run(flow: Annotated[str, typer.Argument(help="deployment (trade-cycle), flow (trade_cycle) or FLOW/DEPLOYMENT")],
        param: Annotated[list[str] | None, typer.Option("--param", "-p", help="k=v (v parsed as JSON if it can)")]
        = None,
        wait: Annotated[bool, typer.Option("--wait", help="Wait for the run to finish; exit 1 unless it completes")]
        = False,
        config: ConfigOpt = None) -> None:
    """Trigger a deployment by hand, like the Run button in the Prefect UI."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tradebot.services import health
    from tradebot.services.prefect_yaml import load_prefect_yaml, resolve

    sup = _supervisor(config, quiet=True)
    spec = resolve(load_prefect_yaml(ROOT / "prefect.yaml"), flow)
    params = parse_params(param or [])
    if not health.prefect_api(sup.api_url).ok:
        from tradebot.errors import TradebotError

        raise TradebotError(f"no Prefect server answers at {sup.api_url}: run `tradebot up` first")
    with temporary_settings(updates={PREFECT_API_URL: sup.api_url}):
        fr = run_deployment(spec.full_name, parameters=params, timeout=None if wait else 0)
    typer.echo(f"flow run {fr.name} ({fr.id}) of {spec.full_name}: {fr.state.name if fr.state else '?'}\n"
               f"{sup.ui_url}/runs/flow-run/{fr.id}")
    if wait and not (fr.state and fr.state.is_completed()):
        raise typer.Exit(1)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """Return k=v pairs as a dict; each value is JSON when it parses (1, true, [..]) and a string otherwise."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not k=v", param_hint="--param")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _print_status(statuses: list) -> None:  # type: ignore[type-arg]
    for s in statuses:
        state = "healthy" if s.healthy else ("UNHEALTHY" if s.running else "stopped")
        pid = str(s.pid) if s.pid else "-"
        typer.echo(f"{s.name:15s} {state:9s} pid {pid:>7s}  {s.url:28s} {s.detail}")


def register(app: typer.Typer) -> None:
    """Add up, down, status and run to the root CLI."""
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
    app.command("run")(run)
