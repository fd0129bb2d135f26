"""Flow `stop_sentinel`: the long-running stop watcher; plain asyncio inside, Prefect only at the edges."""

from __future__ import annotations

import asyncio
import contextlib

from prefect import flow

from flows.hooks import FAILURE_HOOKS
from tradebot.config import load_settings


@flow(name="stop_sentinel", log_prints=True, **FAILURE_HOOKS)
async def stop_sentinel(config_path: str | None = None, overrides: dict | None = None,
                        run_for_seconds: float | None = None) -> dict:
    """Watch every open position on live trades and exit on its stops until cancelled (or run_for_seconds)."""
    from tradebot.metrics import get_metrics, start_metrics_server
    from tradebot.sentinel.setup import build_sentinel

    settings = load_settings(config_path, **(overrides or {}))
    sentinel = build_sentinel(settings)
    server = None
    if settings.sentinel.metrics_port is not None:
        server, _ = start_metrics_server(settings.sentinel.metrics_port, metrics=get_metrics())
        print(f"sentinel metrics on http://127.0.0.1:{server.server_port}/metrics")
    try:
        if run_for_seconds is None:
            await sentinel.run()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sentinel.run(), run_for_seconds)
    finally:
        # Feeds close and exits in flight finish; broker-side protective orders stay where they are.
        if server is not None:
            server.shutdown()
    return {"ticks": sentinel.engine.ticks, "exits": len(sentinel.outcomes), "rest_polls": sentinel.rest_polls,
            "protective_orders_placed": sentinel.guard.placed, "accounts": sentinel.accounts,
            "feeds": {f.name: {"reconnects": f.status.reconnects, "malformed": f.status.malformed}
                      for f in sentinel.feeds}}
