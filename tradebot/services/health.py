"""Health checks of the local services: HTTP endpoints and what the Prefect API knows about workers and runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

# A process worker heartbeats every 30 s by default; two missed beats mean it is gone.
WORKER_HEARTBEAT_MAX_AGE = timedelta(seconds=90)


@dataclass(frozen=True)
class Health:
    """One check's verdict and a short human detail."""

    ok: bool
    detail: str


def http_ok(url: str, expect: str | None = None, timeout: float = 2.0) -> Health:
    """Return ok when GET url answers 200 (and its body contains expect, if given)."""
    try:
        r = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return Health(False, f"{url}: {type(exc).__name__}")
    if r.status_code != 200:
        return Health(False, f"{url}: HTTP {r.status_code}")
    if expect is not None and expect not in r.text:
        return Health(False, f"{url}: unexpected body {r.text[:60]!r}")
    return Health(True, f"{url}: ok")


def prefect_api(api_url: str) -> Health:
    """Return the Prefect server's /api/health verdict."""
    return http_ok(f"{api_url}/health", expect="true")


def worker_heartbeat(api_url: str, pool: str, worker_name: str, now: datetime | None = None) -> Health:
    """Return ok when worker_name has heartbeated on pool recently, as the Prefect API reports."""
    try:
        r = httpx.post(f"{api_url}/work_pools/{pool}/workers/filter", json={}, timeout=3.0)
    except httpx.HTTPError as exc:
        return Health(False, f"workers of {pool}: {type(exc).__name__}")
    if r.status_code != 200:
        return Health(False, f"workers of {pool}: HTTP {r.status_code}")
    now = now or datetime.now(UTC)
    for w in r.json():
        if w.get("name") != worker_name:
            continue
        beat = w.get("last_heartbeat_time")
        if not beat:
            return Health(False, f"worker {worker_name}: no heartbeat yet")
        age = now - datetime.fromisoformat(beat.replace("Z", "+00:00"))
        if age > WORKER_HEARTBEAT_MAX_AGE:
            return Health(False, f"worker {worker_name}: last heartbeat {age.total_seconds():.0f}s ago")
        return Health(True, f"worker {worker_name} on {pool}: heartbeat {max(age.total_seconds(), 0):.0f}s ago")
    return Health(False, f"worker {worker_name} has not registered on {pool}")


def flow_run_running(api_url: str, flow_run_id: str) -> Health:
    """Return ok when the flow run is in state Running."""
    try:
        r = httpx.get(f"{api_url}/flow_runs/{flow_run_id}", timeout=3.0)
    except httpx.HTTPError as exc:
        return Health(False, f"flow run {flow_run_id}: {type(exc).__name__}")
    if r.status_code != 200:
        return Health(False, f"flow run {flow_run_id}: HTTP {r.status_code}")
    state = (r.json().get("state") or {}).get("type", "UNKNOWN")
    return Health(state == "RUNNING", f"flow run {flow_run_id}: {state.lower()}")
