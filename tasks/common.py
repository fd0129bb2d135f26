"""Task decorators: I/O tasks retry, batch computations do not; nothing is cached across runs."""

from functools import partial

from prefect import task
from prefect.cache_policies import NO_CACHE

# Inputs include live sessions and clients that cannot (and must not) be hashed or persisted.
io_task = partial(task, cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, persist_result=False)
compute_task = partial(task, cache_policy=NO_CACHE, persist_result=False)
