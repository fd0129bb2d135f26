"""Progress artifacts for long flows (backfill, backtest, sweep): a bar in the Prefect UI that fills as work is done."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


class ProgressArtifact:
    """One progress artifact per run, updated at most every min_interval seconds; never fails the flow.

    Use: `progress = ProgressArtifact("backtest-progress", total=len(chunks), description=...)`, then
    `progress.advance()` after each unit of work; `progress.done()` at the end.
    """

    def __init__(self, key: str, total: int, description: str = "", min_interval: float = 1.0) -> None:
        if total < 0:
            raise ValueError(f"progress total must be >= 0, got {total}")
        self.key, self.total, self.completed, self.min_interval = key, total, 0, min_interval
        self._last = 0.0
        self.id: Any = None
        try:
            from prefect.artifacts import create_progress_artifact

            self.id = create_progress_artifact(0.0, key=key, description=description or key)
        except Exception:  # noqa: BLE001 - progress is decoration: without an API the work still runs
            log.warning("could not create progress artifact %s", key, exc_info=True)

    @property
    def percent(self) -> float:
        """Return how much is done, 0-100."""
        return 100.0 if self.total == 0 else min(100.0, 100.0 * self.completed / self.total)

    def advance(self, units: int = 1) -> float:
        """Count units more done and push the new percentage (throttled); return it."""
        self.completed += units
        now = time.monotonic()
        if self.completed >= self.total or now - self._last >= self.min_interval:
            self._push()
            self._last = now
        return self.percent

    def done(self) -> None:
        """Mark the work complete (100%)."""
        self.completed = max(self.completed, self.total)
        self._push()

    def _push(self) -> None:
        if self.id is None:
            return
        try:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(self.id, self.percent)
        except Exception:  # noqa: BLE001 - see __init__
            log.warning("could not update progress artifact %s", self.key, exc_info=True)
