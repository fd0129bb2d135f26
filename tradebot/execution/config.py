"""The `execution` settings section: submission retries, market hours, reconciliation policy, rate limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ExecutionConfig(BaseModel):
    """How orders go out and how the ledger converges to the broker (env: TRADEBOT_EXECUTION__<KEY>).

    extended_hours: stock orders that ask for extended hours may go out in the pre-market (04:00-09:30 New
        York) and after-hours (16:00-20:00) sessions; otherwise stocks only while NYSE is open.
    submit_attempts: network attempts per order (each retry is preceded by a lookup by client order id).
    backoff_seconds / max_backoff_seconds: first retry wait, doubled per attempt up to the cap.
    resubmit_within_minutes: on restart, an intent left `submitting` that the broker never received is sent
        again only if it is younger than this; older ones are abandoned (recorded as expired, alerted).
    outside_positions: what reconciliation does with a position the bot did not open: adopt it into the
        ledger, or ignore it (it is alerted either way).
    reconcile_window_hours: how far back reconciliation pulls fills.
    orders_per_second: client-side limit on order endpoint calls per broker (submit, lookup, cancel).
    crypto_broker: outside paper mode, where crypto orders go: alpaca (with the stocks) or binance.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    extended_hours: bool = False
    submit_attempts: int = Field(default=4, ge=1, le=20)
    backoff_seconds: float = Field(default=0.2, ge=0, le=60)
    max_backoff_seconds: float = Field(default=5.0, ge=0, le=600)
    resubmit_within_minutes: float = Field(default=15.0, gt=0)
    outside_positions: Literal["adopt", "ignore"] = "ignore"
    reconcile_window_hours: float = Field(default=48.0, gt=0, le=24 * 90)
    orders_per_second: float = Field(default=5.0, gt=0, le=1000)
    crypto_broker: Literal["alpaca", "binance"] = "alpaca"

    def backoff(self, attempt: int) -> float:
        """Return the wait before retry number attempt (1-based), doubling up to the cap."""
        return min(self.backoff_seconds * (2 ** max(attempt - 1, 0)), self.max_backoff_seconds)
