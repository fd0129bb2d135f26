"""Flow `sweep_parameters`: a parameter grid in batches on a Dask cluster (prefect-dask), ranked.

The cluster is a LocalCluster of 2 worker processes unless `address` names a running scheduler
(tcp://host:8786). Each task backtests a batch of parameter sets, so Prefect's per-task cost is paid
per batch; the terminal shows a progress bar and the run a progress artifact, and the ranking lands
in the `sweep-ranking` table artifact.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.futures import as_completed

from flows.hooks import FAILURE_HOOKS
from tasks.progress import ProgressArtifact
from tasks.sweep import RANK_KEYS, sweep_batch
from tradebot.dask_runner import DEFAULT_WORKERS, dask_task_runner

LOWER_IS_BETTER = {"max_drawdown", "seconds", "turnover"}


def expand_grid(grid: dict[str, list[Any]], fixed: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Return every combination of the grid's values, each merged over the fixed parameters."""
    if not grid:
        raise ValueError("the grid is empty: give at least one --grid k=v1,v2")
    keys = sorted(grid)
    return [{**(fixed or {}), **dict(zip(keys, values, strict=True))}
            for values in itertools.product(*(grid[k] for k in keys))]


def batches(items: list[Any], n_workers: int, batch_size: int | None = None) -> list[list[Any]]:
    """Split items into batches: about four per worker, so a slow batch does not idle the others."""
    size = batch_size or max(1, math.ceil(len(items) / (4 * max(1, n_workers))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def rank(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Return rows best first by the figure `by` (lower first for drawdown, time and turnover); errors last."""
    if by not in RANK_KEYS:
        raise ValueError(f"cannot rank by {by!r}; choose one of {', '.join(RANK_KEYS)}")
    sign = 1 if by in LOWER_IS_BETTER else -1
    ok = [r for r in rows if r.get(by) is not None and "error" not in r]
    rest = [r for r in rows if r not in ok]
    ranked = sorted(ok, key=lambda r: sign * float(r[by])) + rest
    return [{"rank": i + 1, **r} for i, r in enumerate(ranked)]


@flow(name="sweep_parameters", log_prints=True, **FAILURE_HOOKS)
def sweep_parameters(data_path: str, strategy: str, grid: dict[str, list[Any]], fixed: dict[str, Any] | None = None,
                     fill: str = "next_open", fee: float = 0.001, cash: float = 100_000.0, sizing: str = "allin",
                     rank_by: str = "sharpe", address: str | None = None, n_workers: int = DEFAULT_WORKERS,
                     batch_size: int | None = None, symbols: list[str] | None = None, timeframe: str | None = None,
                     show_progress: bool = False) -> list[dict[str, Any]]:
    """Backtest every parameter combination on Dask, batched, and return them ranked by `rank_by`."""
    if rank_by not in RANK_KEYS:
        raise ValueError(f"cannot rank by {rank_by!r}; choose one of {', '.join(RANK_KEYS)}")
    sets = expand_grid(grid, fixed)
    parts = batches(sets, n_workers, batch_size)
    runner = dask_task_runner(address, n_workers)
    rows = _on_cluster.with_options(task_runner=runner)(data_path, strategy, parts, fill, fee, cash, sizing, symbols,
                                                       timeframe, show_progress, len(sets))
    ranked = rank(rows, rank_by)
    create_table_artifact(key="sweep-ranking", table=[_row_text(r) for r in ranked],
                          description=f"{strategy} sweep over {', '.join(sorted(grid))}, ranked by {rank_by}")
    return ranked


@flow(name="sweep_parameters_batches")
def _on_cluster(data_path: str, strategy: str, parts: list[list[dict[str, Any]]], fill: str, fee: float, cash: float,
                sizing: str, symbols: list[str] | None, timeframe: str | None, show_progress: bool,
                total: int) -> list[dict[str, Any]]:
    """Map the batches onto the cluster and gather their rows as they finish, advancing the progress."""
    progress = ProgressArtifact("sweep-progress", total=total, description=f"{strategy}: {total} parameter sets",
                                min_interval=0)
    futures = [sweep_batch.submit(data_path, strategy, part, fill, fee, cash, sizing, symbols, timeframe)
               for part in parts]
    rows: list[dict[str, Any]] = []
    with _Bar(show_progress, total) as advance:
        for fut in as_completed(futures):
            done = fut.result()
            rows.extend(done)
            advance(len(done))
            progress.advance(len(done))
    return rows


class _Bar:
    """A rich progress bar over parameter sets when asked for, else nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not self.enabled:
            return lambda n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._p = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._p.start()
        task = self._p.add_task("sweep", total=self.total)
        return lambda n: self._p.update(task, advance=n)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._p.stop()


def _row_text(r: dict[str, Any]) -> dict[str, str]:
    params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
    out = {"rank": str(r["rank"]), "params": params}
    if "error" in r:
        out["error"] = r["error"]
        return out
    for k in RANK_KEYS:
        v = r.get(k)
        out[k] = f"{v:.6g}" if isinstance(v, float) else str(v)
    return out


def format_table(ranked: list[dict[str, Any]], limit: int = 30) -> str:
    """Return the ranking as aligned text lines."""
    cols = ("rank", "params", "final_equity", "total_return", "sharpe", "max_drawdown", "trades", "win_rate")
    rows = [_row_text(r) for r in ranked[:limit]]
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in cols} if rows else {c: len(c) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(r.get(c, r.get("error", "") if c == "final_equity" else "").ljust(widths[c]) for c in cols)
              for r in rows]
    return "\n".join(lines)
