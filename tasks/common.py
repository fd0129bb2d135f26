"""Task decorators: I/O tasks retry, batch computations do not; nothing is cached across runs."""

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

P = ParamSpec("P")
R = TypeVar("R")


def io_task(name: str, retries: int = 2) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Decorate one I/O boundary: retried, never cached (inputs hold live sessions and clients)."""
    return _task(name, retries)


def compute_task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Decorate one batch computation: not retried, never cached."""
    return _task(name, 0)


def _task(name: str, retries: int) -> Any:
    return task(name=name, cache_policy=NO_CACHE, retries=retries, retry_delay_seconds=1, persist_result=False)
