"""Prefect automations tradebot keeps on its server, created or updated idempotently through the client.

The flows' own failure hooks (flows/hooks.py) alert from inside the run; these automations are the
server-side safety net for what a hook cannot see (a worker or machine that dies mid-run marks the run
Crashed from outside), and for events raised outside any flow (the kill switch).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

from tradebot.prefect_events import KILL_SWITCH_ON

NOTIFY_DEPLOYMENT = "notify_alert/notify-alert"
FLOW_RUN_FAILED = "tradebot-flow-run-failed"
KILL_SWITCH_ENGAGED = "tradebot-kill-switch-on"
# Runs of deployments with this tag are watched; the alert deployments carry another tag so a failing
# alert flow does not start itself again.
WATCHED_TAG = "tradebot"


def automation_specs(notify_deployment_id: Any) -> list[AutomationCore]:
    """Return the automations tradebot wants, each running the notify-alert deployment with a typed alert."""
    def run_notify(alert: dict[str, Any]) -> RunDeployment:
        return RunDeployment(source="selected", deployment_id=notify_deployment_id, parameters={"alert": alert},
                             job_variables=None)

    return [
        AutomationCore(
            name=FLOW_RUN_FAILED,
            description="A tradebot flow run failed or crashed: raise a FlowFailure alert.",
            enabled=True,
            trigger=EventTrigger(
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{WATCHED_TAG}"},
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                posture=Posture.Reactive, threshold=1, within=timedelta(0),
            ),
            # notify_alert reads the run (flow name, state message, UI link) from the API by this id.
            actions=[run_notify({"kind": "flow_failure", "flow_run_id": "{{ event.resource.id }}"})],
        ),
        AutomationCore(
            name=KILL_SWITCH_ENGAGED,
            description="The kill switch was turned on: raise a KillSwitch alert.",
            enabled=True,
            trigger=EventTrigger(
                match={"prefect.resource.id": "tradebot.kill-switch"}, expect={KILL_SWITCH_ON},
                posture=Posture.Reactive, threshold=1, within=timedelta(0),
            ),
            actions=[run_notify({"kind": "kill_switch", "engaged": True, "actor": "{{ event.payload.actor }}",
                                 "reason": "{{ event.payload.reason }}"})],
        ),
    ]


def ensure_automations(client: Any, notify_deployment: str = NOTIFY_DEPLOYMENT) -> dict[str, str]:
    """Create each automation, or update it in place when one of that name exists; return name -> what was done."""
    notify = client.read_deployment_by_name(notify_deployment)
    done: dict[str, str] = {}
    for spec in automation_specs(notify.id):
        existing = client.read_automations_by_name(spec.name)
        if existing:
            client.update_automation(existing[0].id, spec)
            for extra in existing[1:]:  # a duplicate left by an older version would alert twice
                client.delete_automation(extra.id)
            done[spec.name] = "updated"
        else:
            client.create_automation(spec)
            done[spec.name] = "created"
    return done
