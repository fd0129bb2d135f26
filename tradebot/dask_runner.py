"""Dask task runners for backtests and parameter sweeps: a local cluster by default, a real one by address.

Use it per run, since the config is only known then:
    runner = task_runner_for(settings)
    result = sweep.with_options(task_runner=runner)(...)
Tasks mapped inside that flow run on the cluster's worker processes; keep them pure and batched (one task per
parameter set or symbol group, never per bar), and pass data they need as arguments, not as live sessions.
"""

from __future__ import annotations

from typing import Any

DEFAULT_WORKERS = 2


def dask_task_runner(address: str | None = None, n_workers: int = DEFAULT_WORKERS,
                     threads_per_worker: int = 1) -> Any:
    """Return a DaskTaskRunner on the cluster at address, or on a new LocalCluster of n_workers processes."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    if n_workers < 1:
        raise ValueError(f"a local Dask cluster needs at least one worker, got n_workers={n_workers}")
    # Processes, not threads: backtests are CPU-bound Python. No dashboard: port 8787 may be taken and nobody
    # watches a cluster that lives for one flow run.
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs={"n_workers": n_workers, "threads_per_worker": threads_per_worker,
                                          "processes": True, "dashboard_address": None})


def task_runner_for(settings: Any) -> Any:
    """Return the Dask task runner the config asks for (services.dask_address / services.dask_workers)."""
    cfg = settings.services
    return dask_task_runner(cfg.dask_address, cfg.dask_workers)
