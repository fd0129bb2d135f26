"""Result types of the data-quality gate: one verdict per expectation, one outcome per batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one expectation fared on one batch."""

    expectation: str  # our short name, e.g. "close_positive"; also what the "failed" column lists
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    details: str


@dataclass(frozen=True)
class GateOutcome:
    """The verdict on one batch: which rows/items passed, which were quarantined and why."""

    batch: str
    kind: str  # "bars" | "news"
    good: Any  # bars: DataFrame of passing rows; news: list[NewsItem]
    quarantined: Any  # bars: DataFrame plus a "failed" column; news: list[tuple[NewsItem, str]]
    expectations: tuple[ExpectationOutcome, ...]
    success: bool  # False when anything was quarantined or a batch-level expectation failed
    seconds: float

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        """Return the expectations that did not pass."""
        return tuple(e for e in self.expectations if not e.success)

    def summary(self) -> dict:
        """Return a JSON-able digest: counts, verdict and the failed expectations with their counts."""
        good, quarantined = len(self.good), len(self.quarantined)
        return {
            "batch": self.batch,
            "kind": self.kind,
            "rows": good + quarantined,
            "good": good,
            "quarantined": quarantined,
            "success": bool(self.success),
            "failed": {e.expectation: int(e.unexpected_count) for e in self.failed},
            "seconds": round(float(self.seconds), 6),
        }
