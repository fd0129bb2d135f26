"""Recent Prefect flow runs, deployments and artifacts through the Prefect client (never the Prefect database)."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd


def api_url() -> str | None:
    """Return the Prefect API the dashboard reads (PREFECT_API_URL), or None when none is configured."""
    from prefect.settings import get_current_settings

    url = os.environ.get("PREFECT_API_URL") or get_current_settings().api.url
    return str(url) if url else None


def ui_url() -> str | None:
    """Return the Prefect UI's base URL (PREFECT_UI_URL, else the API URL without /api)."""
    from prefect.settings import get_current_settings

    ui = os.environ.get("PREFECT_UI_URL") or get_current_settings().ui_url
    if ui:
        return str(ui).rstrip("/")
    api = api_url()
    return api[: -len("/api")] if api and api.endswith("/api") else api


def recent_runs(limit: int = 50) -> pd.DataFrame:
    """Return the newest flow runs with flow name, state, times, deployment and a UI link."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    ui = ui_url()
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit)
        flows: dict[Any, str] = {}
        rows = []
        for r in runs:
            if r.flow_id not in flows:
                flows[r.flow_id] = client.read_flow(r.flow_id).name
            rows.append({"flow": flows[r.flow_id], "run": r.name, "state": r.state_name or "?",
                         "start": r.start_time or r.expected_start_time, "end": r.end_time,
                         "duration_s": round(r.total_run_time.total_seconds(), 1),
                         "tags": ", ".join(r.tags), "link": f"{ui}/runs/flow-run/{r.id}" if ui else "",
                         "id": str(r.id)})
    return pd.DataFrame(rows, columns=["flow", "run", "state", "start", "end", "duration_s", "tags", "link", "id"])


def deployments(limit: int = 100) -> list[str]:
    """Return 'flow/deployment' names of the registered deployments."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        deps = client.read_deployments(limit=limit)
        names: dict[Any, str] = {}
        out = []
        for d in deps:
            if d.flow_id not in names:
                names[d.flow_id] = client.read_flow(d.flow_id).name
            out.append(f"{names[d.flow_id]}/{d.name}")
        return sorted(out)


def latest_artifacts(limit: int = 20) -> list[dict[str, Any]]:
    """Return the newest artifact of each key (table or markdown), newest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import ArtifactCollectionSort

    with get_client(sync_client=True) as client:
        arts = client.read_latest_artifacts(sort=ArtifactCollectionSort.UPDATED_DESC, limit=limit)
        return [{"key": a.key, "type": a.type, "description": a.description or "", "data": a.data,
                 "updated": a.updated} for a in arts]
