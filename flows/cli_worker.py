"""`tradebot worker` and `tradebot metrics serve`: long-lived processes that export Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="JSON config file")]
PortOpt = Annotated[int, typer.Option("--metrics-port", help="Port for /metrics on 127.0.0.1 (0 picks one)")]
metrics_app = typer.Typer(no_args_is_help=True, help="Prometheus metrics.")


def scrape_collectors(settings: Any, prefect_runs: bool) -> list[Any]:
    """Return the collectors that read the ledger (and Prefect's flow runs) at scrape time."""
    from tradebot.metrics_ledger import LedgerCollector, PrefectRunsCollector
    from tradebot.store.db import open_ledger

    collectors: list[Any] = [LedgerCollector(open_ledger(settings.ledger_url), settings.paper.account)]
    if prefect_runs:
        collectors.append(PrefectRunsCollector())
    return collectors


def serve_metrics(settings: Any, port: int, prefect_runs: bool = True) -> int:
    """Add the scrape-time collectors to this process's metrics, serve them on 127.0.0.1; return the port."""
    from tradebot.metrics import get_metrics, start_metrics_server

    metrics = get_metrics()
    for collector in scrape_collectors(settings, prefect_runs):
        metrics.registry.register(collector)
    server, _ = start_metrics_server(port, metrics=metrics)
    return int(server.server_port)


def worker_command(config: ConfigOpt = None, pool: Annotated[str, typer.Option(help="Work pool to poll")] =
                   "tradebot-process", name: Annotated[str | None, typer.Option(help="Worker name")] = None,
                   metrics_port: PortOpt = 9464,
                   reconcile: Annotated[bool, typer.Option(help="Reconcile with the broker before polling")] = True,
                   ) -> None:
    """Start a Prefect process worker on POOL that also serves /metrics (ledger, flow runs, process)."""
    from prefect.workers.process import ProcessWorker

    from flows.environment import prepare
    from tradebot.config import load_settings

    settings = load_settings(config)
    prepare(settings, verbose=True)
    port = serve_metrics(settings, metrics_port)
    typer.echo(f"metrics on http://127.0.0.1:{port}/metrics")
    if reconcile:
        _reconcile_at_startup(config)
    # A background worker ignores SIGINT (PLATFORM_NOTES); SIGTERM ends it through the same path.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        asyncio.run(ProcessWorker(work_pool_name=pool, name=name).start())
    except KeyboardInterrupt:
        typer.echo("worker stopped")


def _reconcile_at_startup(config: Path | None) -> None:
    """Converge the ledger to the broker before any flow runs: orders may have moved while nothing watched."""
    from flows.reconcile_positions import reconcile_positions

    try:
        summary = reconcile_positions(config_path=str(config) if config else None)
        typer.echo(f"startup reconciliation: {summary}")
    except Exception as exc:  # noqa: BLE001 - the flow's failure hook has alerted; the worker must still start
        typer.echo(f"startup reconciliation failed ({type(exc).__name__}); see the alert and the Prefect run")


@metrics_app.command("serve")
def metrics_serve(config: ConfigOpt = None, metrics_port: PortOpt = 9464,
                  prefect_runs: Annotated[bool, typer.Option(help="Include flow-run counts from Prefect")] = True,
                  ) -> None:
    """Serve the ledger's metrics on /metrics until interrupted (no worker)."""
    from tradebot.config import load_settings

    port = serve_metrics(load_settings(config), metrics_port, prefect_runs)
    typer.echo(f"metrics on http://127.0.0.1:{port}/metrics")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


@metrics_app.command("show")
def metrics_show(config: ConfigOpt = None,
                 prefect_runs: Annotated[bool, typer.Option(help="Include flow-run counts from Prefect")] = False,
                 ) -> None:
    """Print the metrics exposition once (what a scrape would return)."""
    from prometheus_client import CollectorRegistry, generate_latest

    from tradebot.config import load_settings

    registry = CollectorRegistry()
    for collector in scrape_collectors(load_settings(config), prefect_runs):
        registry.register(collector)
    typer.echo(generate_latest(registry).decode(), nl=False)
