"""The dashboard's config section: refresh and cache timing, login policy, metrics endpoints to scrape."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DashboardConfig(BaseModel):
    """Dashboard settings (env: TRADEBOT_DASHBOARD__<KEY>, e.g. TRADEBOT_DASHBOARD__SCRAPE_URLS='["http://..."]').

    refresh_seconds: pages re-read the ledger this often (0 turns auto-refresh off).
    session_timeout_minutes: a session idle this long must log in again.
    max_failed_logins / lockout_minutes: this many failures for one name within the window lock it out.
    scrape_urls: Prometheus endpoints (worker, sentinel) the Health page reads.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    refresh_seconds: int = Field(default=15, ge=0, le=3600)
    session_timeout_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    max_failed_logins: int = Field(default=5, ge=1, le=100)
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    scrape_urls: tuple[str, ...] = ()

    @field_validator("scrape_urls")
    @classmethod
    def _http_urls(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [u for u in v if not u.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"scrape URLs must start with http:// or https://, got {bad}")
        return tuple(u.strip() for u in v)
