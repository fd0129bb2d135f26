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


def serve_metrics(config: Path | None, port: int, prefect_runs: bool = True) -> tuple[Any, int]:
    """Register the ledger (and Prefect-runs) collectors with this process's metrics and serve them."""
    from tradebot.config import load_settings
    from tradebot.metrics import get_metrics, start_metrics_server
    from tradebot.metrics_ledger import LedgerCollector, PrefectRunsCollector
    from tradebot.store.db import open_ledger

    settings = load_settings(config)
    metrics = get_metrics()
    metrics.registry.register(LedgerCollector(open_ledger(settings.ledger_url), settings.paper.account))
    if prefect_runs:
        metrics.registry.register(PrefectRunsCollector())
    server, _ = start_metrics_server(port, metrics=metrics)
    return server, server.server_port


def worker_command(config: ConfigOpt = None, pool: Annotated[str, typer.Option(help="Work pool to poll")] =
                   "tradebot-process", name: Annotated[str | None, typer.Option(help="Worker name")] = None,
                   metrics_port: PortOpt = 9464,
                   reconcile: Annotated[bool, typer.Option(help="Reconcile with the broker before polling")] = True,
                   ) -> None:
    """Start a Prefect process worker on POOL that also serves /metrics (ledger, flow runs, process)."""
    from prefect.workers.process import ProcessWorker

    from flows.environment import prepare
    from tradebot.config import load_settings

    prepare(load_settings(config), verbose=True)
    _, port = serve_metrics(config, metrics_port)
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
    _, port = serve_metrics(config, metrics_port, prefect_runs)
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
    from tradebot.metrics_ledger import LedgerCollector, PrefectRunsCollector
    from tradebot.store.db import open_ledger

    settings = load_settings(config)
    registry = CollectorRegistry()
    registry.register(LedgerCollector(open_ledger(settings.ledger_url), settings.paper.account))
    if prefect_runs:
        registry.register(PrefectRunsCollector())
    typer.echo(generate_latest(registry).decode(), nl=False)
