"""Flow `notify_alert`: route one alert (built from an automation's event) through the alert router."""

from __future__ import annotations

import logging
from typing import Any

from prefect import flow

from tradebot.config import load_settings

log = logging.getLogger(__name__)


def route_alert(event: Any, config_path: str | None = None, overrides: dict | None = None) -> dict:
    """Send event through the router (recorded, de-duplicated by key inside its window); return the outcome."""
    from tradebot.alerts.setup import build_router
    from tradebot.store.db import open_ledger

    settings = load_settings(config_path, **(overrides or {}))
    with build_router(settings, open_ledger(settings.ledger_url)) as router:
        result = router.send(event)
    return {"kind": event.kind, "key": event.key, "status": result.status, "alert_id": result.alert_id,
            "count": result.count}


def describe_flow_run(flow_run_id: str) -> dict[str, str]:
    """Return flow, error message and UI link of a flow run, read from the Prefect API."""
    from prefect import get_client
    from prefect.settings import PREFECT_UI_URL

    run_id = flow_run_id.removeprefix("prefect.flow-run.")
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        name = client.read_flow(run.flow_id).name
    message = (run.state.message if run.state else None) or (run.state.name if run.state else "failed")
    ui = PREFECT_UI_URL.value()
    out = {"flow": name, "error": f"{run.name}: {message}"[:500], "flow_run_id": str(run.id)}
    if ui:
        out["url"] = f"{ui.rstrip('/')}/runs/flow-run/{run.id}"
    return out


@flow(name="notify_alert", log_prints=True)
def notify_alert(alert: dict, config_path: str | None = None, overrides: dict | None = None) -> dict:
    """Build the typed alert from alert (a dict with `kind`) and route it; flow failures are described from the API.

    No failure hooks here: the automation that runs this flow watches failures, and must not chase its own.
    """
    from tradebot.alerts import parse_event

    data = {k: v for k, v in alert.items() if v is not None}
    if data.get("kind") == "flow_failure" and data.get("flow_run_id") and not data.get("error"):
        data.update(describe_flow_run(str(data["flow_run_id"])))
    return route_alert(parse_event(data), config_path, overrides)
