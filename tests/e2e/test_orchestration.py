"""End to end: a real Prefect server, prefect.yaml deployed, a process worker, and events that run flows."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradebot.services.prefect_yaml import load_prefect_yaml, split_present
from tradebot.services.supervisor import _git_version

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _poll(what: str, check, timeout: float = 90.0, every: float = 0.5):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Start server + worker via the supervisor (no dashboard, no sentinel) on free ports; stop it afterwards."""
    from tradebot.config import load_settings
    from tradebot.services.supervisor import Supervisor

    home = tmp_path_factory.mktemp("home")
    settings = load_settings(home=str(home), services={"prefect_port": _free_port(), "metrics_port": _free_port(),
                                                       "dashboard_port": _free_port(), "start_timeout_seconds": 150})
    sup = Supervisor(settings, ROOT)
    t0 = time.monotonic()
    try:
        report = sup.up(sentinel=False, dashboard=False)
        report.timings["wall"] = round(time.monotonic() - t0, 2)
        print(f"\nup timings: {report.timings}")
        yield sup, report
    finally:
        outcomes = sup.down()
        assert not [r for r in sup.run.records() if sup.run.alive(r)], outcomes


def test_every_deployment_from_prefect_yaml_is_on_the_server_with_its_schedules_and_triggers(stack):
    sup, report = stack
    present, _ = split_present(load_prefect_yaml(ROOT / "prefect.yaml"), ROOT)
    with sup.client() as client:
        deployed = {d.name: d for d in client.read_deployments()}
        automations = {a.name: a for a in client.read_automations()}
    assert set(deployed) == {s.name for s in present}
    assert {d.work_pool_name for d in deployed.values()} == {sup.pool}
    version = _git_version(ROOT)
    if version:  # a git checkout: every deployment records the commit it was deployed from
        assert {d.version for d in deployed.values()} == {version}
    for spec in present:
        d = deployed[spec.name]
        want = {(s["cron"], s["timezone"]) for s in spec.raw.get("schedules", [])}
        assert {(s.schedule.cron, s.schedule.timezone) for s in d.schedules} == want, spec.name
        for trig in spec.raw.get("triggers", []):
            auto = automations[trig["name"]]
            assert auto.trigger.expect == set(trig["expect"])
            assert auto.actions[0].deployment_id == d.id
    prices = {s.slug: s.parameters for s in deployed["ingest-prices"].schedules}
    assert prices["crypto-24-7"] == {"assets": "crypto"} and prices["stocks-session"] == {"assets": "stocks"}
    limit = deployed["trade-cycle"].global_concurrency_limit
    assert limit is not None and limit.limit == 1
    assert report.automations.keys() == {"tradebot-flow-run-failed", "tradebot-kill-switch-on"}
    assert {"tradebot-flow-run-failed", "tradebot-kill-switch-on"} <= automations.keys()


def test_the_scheduler_creates_runs_from_the_cron_schedules(stack):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    sup, _ = stack

    def scheduled():  # type: ignore[no-untyped-def]
        with sup.client() as client:
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=["ingest-prices"])))
        return [r for r in runs if r.parameters.get("assets") == "crypto"]

    runs = _poll("scheduled crypto ingestion runs", scheduled, timeout=90)
    # Each run got its state row (the part the compatibility fix leaves to Prefect) and is due a minute apart.
    assert all(r.state is not None for r in runs) and any(r.state.is_scheduled() for r in runs)
    times = sorted(r.expected_start_time for r in runs)
    assert all((b - a).total_seconds() == 60 for a, b in zip(times, times[1:], strict=False))


def test_an_emitted_prices_event_runs_a_trade_cycle_to_completion(stack):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tradebot.prefect_events import prices_ingested

    sup, _ = stack
    end = datetime.now(UTC)
    with temporary_settings(updates={PREFECT_API_URL: sup.api_url}):
        emitted_at = datetime.now(UTC)
        assert prices_ingested("crypto", "1Day", 2, 0, ["BTC/USD", "ETH/USD"], end) is not None
        EventsWorker.drain_all()

    def completed_cycle():  # type: ignore[no-untyped-def]
        with sup.client() as client:
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=["trade-cycle"])), flow_run_filter=FlowRunFilter())
        # Scheduled ingestion also emits prices events: only the run our event started counts.
        ours = [r for r in runs if _param_time(r.parameters.get("now")) == end]
        _fail_fast(ours)
        return next((r for r in ours if r.state and r.state.is_completed()), None)

    run = _poll("the trade-cycle run our event started to complete", completed_cycle, timeout=120)
    print(f"\nevent -> flow run created {(run.created - emitted_at).total_seconds():.1f}s, "
          f"-> started {(run.start_time - emitted_at).total_seconds():.1f}s, "
          f"-> completed {(run.end_time - emitted_at).total_seconds():.1f}s")


def _param_time(value) -> datetime | None:  # type: ignore[no-untyped-def]
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _fail_fast(runs) -> None:  # type: ignore[no-untyped-def]
    bad = [r for r in runs if r.state and r.state.is_final() and not r.state.is_completed()]
    if bad:
        raise AssertionError(f"trade cycle ended {bad[0].state.name}: {bad[0].state.message}")


def test_a_failed_run_and_the_kill_switch_each_raise_an_alert_through_the_automations(stack):
    from prefect.deployments import run_deployment
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from sqlalchemy import select

    from tradebot.prefect_events import kill_switch_changed
    from tradebot.store.db import open_ledger
    from tradebot.store.ops import AlertRow

    sup, _ = stack
    with temporary_settings(updates={PREFECT_API_URL: sup.api_url}):
        # end before start: the flow refuses it, so the run fails.
        failing = run_deployment("backfill_prices/backfill-prices", timeout=0,
                                 parameters={"start": "2026-02-01T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"})
        assert kill_switch_changed(True, "e2e", "testing the automation") is not None
        EventsWorker.drain_all()
    sessions = open_ledger(sup.settings.ledger_url)

    def alerts():  # type: ignore[no-untyped-def]
        with sessions() as s:
            rows = s.scalars(select(AlertRow)).all()
        kinds = {r.kind: r for r in rows}
        # The automation's alert carries the run's UI link (the in-run hook's alert does not).
        automated = [r for r in rows if r.kind == "flow_failure" and f"/runs/flow-run/{failing.id}" in r.message]
        return (automated, kinds["kill_switch"]) if automated and "kill_switch" in kinds else None

    failures, kill = _poll("flow_failure and kill_switch alerts", alerts, timeout=120)
    assert any("backfill_prices" in r.message for r in failures)
    assert "e2e" in kill.message and "testing the automation" in kill.message
