"""The `services` config section: where `tradebot up` serves the Prefect server, worker, dashboard and sentinel."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServicesConfig(_Section):
    """Ports, pool and timeouts of the local services; the Prefect server's database URL for scale-out.

    host: interface every service binds to (127.0.0.1: nothing is exposed beyond this machine).
    prefect_port: the Prefect server (API at /api, UI at /).
    dashboard_port: the Streamlit dashboard.
    metrics_port: the worker's Prometheus /metrics.
    prefect_database_url: SQLAlchemy URL of the Prefect server's database (PostgreSQL for scale-out; SQLite
        under home/prefect when unset). A secret: it may carry a password.
    dask_address: scheduler of an existing Dask cluster (tcp://host:8786) for backtests and sweeps; unset, each
        run starts a LocalCluster of dask_workers processes.
    start_timeout_seconds / stop_grace_seconds: how long `up` waits for health, and `down` for SIGTERM.
    """

    host: str = "127.0.0.1"
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    dashboard_port: int = Field(default=8501, ge=1, le=65535)
    metrics_port: int = Field(default=9464, ge=1, le=65535)
    prefect_database_url: SecretStr | None = None
    dask_address: str | None = None
    dask_workers: int = Field(default=2, ge=1, le=256)
    start_timeout_seconds: float = Field(default=180.0, gt=0, le=3600)
    stop_grace_seconds: float = Field(default=15.0, gt=0, le=600)
