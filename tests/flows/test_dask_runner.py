"""Backtests and sweeps fan out over Dask: a pure task mapped over a LocalCluster of two worker processes."""

from __future__ import annotations

import os
import time

import pytest
from prefect import flow, task

from tradebot.dask_runner import dask_task_runner, task_runner_for


@task
def score(params: tuple[int, int]) -> dict:
    """Pretend to backtest one parameter pair: a pure function of its input."""
    fast, slow = params
    time.sleep(0.3)  # long enough that one worker cannot take every task before the other starts
    from distributed import get_worker

    return {"params": params, "score": slow - fast, "worker": get_worker().address, "pid": os.getpid()}


@flow
def sweep(grid: list[tuple[int, int]]) -> list[dict]:
    """Map score over the grid on whatever task runner the caller chose."""
    return [f.result() for f in score.map(grid)]


@pytest.mark.slow
def test_a_mapped_pure_task_runs_on_both_workers_of_a_local_cluster_and_keeps_order():
    grid = [(f, s) for f in (5, 10, 20) for s in (50, 100)]
    results = sweep.with_options(task_runner=dask_task_runner(n_workers=2))(grid)
    assert [r["params"] for r in results] == grid
    assert [r["score"] for r in results] == [s - f for f, s in grid]
    assert len({r["worker"] for r in results}) == 2
    assert os.getpid() not in {r["pid"] for r in results}  # worker processes, not this one


def test_the_config_picks_a_local_cluster_or_a_given_scheduler_address():
    from tradebot.config import load_settings

    local = task_runner_for(load_settings())
    assert local.cluster_kwargs["n_workers"] == 2 and local.address is None
    remote = task_runner_for(load_settings(services={"dask_address": "tcp://10.0.0.5:8786"}))
    assert remote.address == "tcp://10.0.0.5:8786"
    with pytest.raises(ValueError, match="n_workers=0"):
        dask_task_runner(n_workers=0)
