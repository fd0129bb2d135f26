"""`prefect server start` with one fix for SQLAlchemy 2.1: python -m tradebot.services.prefect_server ARGS.

Prefect 3.8.8's scheduler bulk-inserts scheduled flow runs as dicts that carry a `state` key, which is a hybrid
property on its FlowRun model. SQLAlchemy 2.1 raises "Can't evaluate bulk DML statement; please supply a
bulk_dml decorated function" on it, so no scheduled run is ever created (cron schedules stay idle). Prefect
inserts the states itself right after the runs, so the key can simply be ignored. Remove this
module once Prefect ships the fix or SQLAlchemy is pinned below 2.1.
"""

from __future__ import annotations

import sys
from typing import Any


def _ignore_state_in_bulk_insert(cls: Any, mapping: Any, value: Any) -> None:
    """Leave the mapping untouched: Prefect writes the run's state rows after the insert."""


def patch_flow_run_state_hybrid() -> bool:
    """Give FlowRun.state a no-op bulk_dml setter where SQLAlchemy requires one; return True if patched."""
    from prefect.server.database import orm_models

    hybrid = orm_models.FlowRun.__dict__.get("state")
    if hybrid is None or not hasattr(hybrid, "bulk_dml_setter") or hybrid.bulk_dml_setter is not None:
        return False
    hybrid.bulk_dml_setter = _ignore_state_in_bulk_insert
    return True


def main(argv: list[str]) -> None:
    """Patch, then hand over to Prefect's own CLI with `server start ARGS`."""
    patch_flow_run_state_hybrid()
    from prefect.cli import app

    sys.argv = ["prefect", "server", "start", *argv]
    app()


if __name__ == "__main__":
    main(sys.argv[1:])
