"""Prefect state hooks: a flow run that fails or crashes raises an alert."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def alert_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Send a FlowFailure alert for this run; never raise (the run has already failed)."""
    try:
        from tradebot.alerts import FlowFailure
        from tradebot.alerts.setup import build_router
        from tradebot.config import load_settings
        from tradebot.store.db import open_ledger

        params = dict(getattr(flow_run, "parameters", None) or {})
        settings = load_settings(params.get("config_path"), **(params.get("overrides") or {}))
        with build_router(settings, open_ledger(settings.ledger_url)) as router:
            router.send(FlowFailure(flow=flow.name, error=str(getattr(state, "message", "") or "failed")[:500],
                                    flow_run_id=str(flow_run.id)))
    except Exception:  # noqa: BLE001 - an alerting problem must not mask the original failure
        log.exception("could not raise the flow-failure alert for %s", getattr(flow, "name", "?"))


FAILURE_HOOKS: dict[str, list[Any]] = {"on_failure": [alert_on_failure], "on_crashed": [alert_on_failure]}
