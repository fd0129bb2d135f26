"""prefect.yaml: every deployment's entrypoint, schedule, trigger, pool and limit is what the issue asks for."""

from __future__ import annotations

import importlib
import inspect
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatch
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from cronsim import CronSim

ROOT = Path(__file__).resolve().parents[2]
PREFECT_YAML = ROOT / "prefect.yaml"
# Flows other engineers are writing now; their deployments are in prefect.yaml and deploy once the file exists.
PENDING: set[str] = set()
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def data() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text())


@pytest.fixture(scope="module")
def deployments(data) -> dict[str, dict]:
    return {d["name"]: d for d in data["deployments"]}


def _flow_of(entrypoint: str):  # type: ignore[no-untyped-def]
    path, func = entrypoint.split(":")
    return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), func)


def _minutes(cron: str, tz: ZoneInfo, day: datetime) -> list[datetime]:
    """Return the local times cron fires on day (a local midnight)."""
    out = []
    for t in CronSim(cron, day - timedelta(seconds=1)):  # Prefect's own cron engine
        if t.date() != day.date():
            return out
        out.append(t)
    return out


def test_prefect_itself_accepts_the_file_and_every_trigger(data):
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    model = PrefectYamlModel.model_validate(data)
    assert len(model.deployments) == len(data["deployments"])
    for d in data["deployments"]:
        for trig in d.get("triggers", []):
            DeploymentEventTrigger.model_validate(trig)


def test_deployment_names_are_unique_kebab_case_and_one_per_flow(deployments, data):
    names = [d["name"] for d in data["deployments"]]
    assert len(names) == len(set(names))
    assert all(n == n.lower() and "_" not in n for n in names)
    entrypoints = [d["entrypoint"] for d in data["deployments"]]
    assert len(entrypoints) == len(set(entrypoints)), "one deployment per flow"


def test_every_entrypoint_imports_as_a_prefect_flow_named_after_its_function(deployments):
    from prefect import Flow

    missing = set()
    for d in deployments.values():
        path, func = d["entrypoint"].split(":")
        if not (ROOT / path).is_file():
            missing.add(path)
            continue
        fl = _flow_of(d["entrypoint"])
        assert isinstance(fl, Flow), d["entrypoint"]
        assert fl.name == func
    assert missing <= PENDING, f"entrypoints that do not exist: {sorted(missing - PENDING)}"


def test_shared_parts_come_from_yaml_anchors(deployments):
    text = PREFECT_YAML.read_text()
    assert "work_pool: &pool" in text and text.count("<<: *trading") >= 10 and text.count("<<: *alerting") == 2
    assert {d["work_pool"]["name"] for d in deployments.values()} == {"tradebot-process"}
    assert all(d["tags"] for d in deployments.values())
    # Alert flows must not carry the watched tag, or a failing alert flow would start itself again.
    from tradebot.automations import WATCHED_TAG

    assert WATCHED_TAG not in deployments["notify-stop"]["tags"] + deployments["notify-alert"]["tags"]
    assert WATCHED_TAG in deployments["trade-cycle"]["tags"]


def test_stock_prices_run_every_minute_of_the_new_york_session_only(deployments):
    stock = [s for s in deployments["ingest-prices"]["schedules"] if s["parameters"] == {"assets": "stocks"}]
    assert stock and all(s["timezone"] == "America/New_York" for s in stock)
    tuesday = datetime(2026, 11, 24, tzinfo=NY)
    fired = sorted(t for s in stock for t in _minutes(s["cron"], NY, tuesday))
    assert fired[0].strftime("%H:%M") == "09:30" and "09:29" not in {t.strftime("%H:%M") for t in fired}
    session = [t for t in fired if t.hour < 16]
    assert len(session) == 390  # 09:30..15:59, every minute
    assert max(t for t in fired).strftime("%H:%M") <= "16:15"  # the close's bars, then nothing
    saturday = datetime(2026, 11, 28, tzinfo=NY)
    assert not [t for s in stock for t in _minutes(s["cron"], NY, saturday)]


def test_crypto_prices_run_every_minute_around_the_clock_in_utc(deployments):
    crypto = [s for s in deployments["ingest-prices"]["schedules"] if s["parameters"] == {"assets": "crypto"}]
    assert len(crypto) == 1 and crypto[0]["timezone"] == "UTC"
    assert len(_minutes(crypto[0]["cron"], ZoneInfo("UTC"), datetime(2026, 11, 28, tzinfo=ZoneInfo("UTC")))) == 1440


@pytest.mark.parametrize(("name", "per_day", "tz"), [
    ("ingest-news-5m", 288, "UTC"), ("reconcile-positions", 96, "UTC"),
    ("ingest-earnings-daily", 1, "America/New_York"), ("daily-report", 1, "America/New_York"),
])
def test_periodic_flows_run_at_their_cadence_in_their_timezone(deployments, name, per_day, tz):
    (sched,) = deployments[name]["schedules"]
    assert sched["timezone"] == tz
    assert len(_minutes(sched["cron"], ZoneInfo(tz), datetime(2026, 11, 24, tzinfo=ZoneInfo(tz)))) == per_day


def test_the_daily_report_runs_after_the_close(deployments):
    (sched,) = deployments["daily-report"]["schedules"]
    (t,) = _minutes(sched["cron"], NY, datetime(2026, 11, 24, tzinfo=NY))
    assert (t.hour, t.minute) > (16, 0)


@pytest.mark.parametrize(("name", "event", "resource"), [
    ("trade-cycle", "tradebot.prices.ingested", "tradebot.prices.*"),
    ("handle-earnings", "tradebot.earnings.released", "tradebot.earnings.*"),
    ("reconcile-positions", "tradebot.order.unknown", "tradebot.order.*"),
    ("notify-stop", "tradebot.stop.triggered", "tradebot.*"),
])
def test_event_driven_flows_are_triggered_by_their_event(deployments, name, event, resource):
    (trig,) = deployments[name]["triggers"]
    assert trig["expect"] == [event] and trig["match"] == {"prefect.resource.id": resource}
    assert trig["posture"] == "Reactive" and trig["threshold"] == 1 and trig["enabled"] is True


def test_trigger_parameters_name_real_payload_fields_and_real_flow_parameters(deployments):
    from tradebot import prefect_events as ev

    samples = {
        ev.PricesIngested: ev.PricesIngested(assets="crypto", timeframe="1Day", rows=2, quarantined=0,
                                             end=datetime(2026, 11, 24, tzinfo=UTC)),
        ev.EarningsReleased: ev.EarningsReleased(symbol="AAPL", day=date(2026, 11, 24), eps_actual=1.2),
        ev.StopHit: ev.StopHit(symbol="BTC/USD", stop_price=Decimal("1"), last_price=Decimal("0.9")),
    }

    payloads = {"trade-cycle": ev.PricesIngested, "handle-earnings": ev.EarningsReleased, "notify-stop": ev.StopHit}
    for name, model in payloads.items():
        d = deployments[name]
        (trig,) = d["triggers"]
        flow_params = set(inspect.signature(_flow_of(d["entrypoint"]).fn).parameters)
        for param, template in trig["parameters"].items():
            assert param in flow_params, f"{name}: {param} is not a parameter of the flow"
            field = template.strip("{} ").removeprefix("event.payload.")
            assert field in model.model_fields, f"{name}: payload has no field {field}"
        # What the emit helper sends must match the trigger's resource pattern.
        assert fnmatch(samples[model].resource()["prefect.resource.id"], trig["match"]["prefect.resource.id"])


def test_trade_cycle_and_the_sentinel_run_one_at_a_time(deployments):
    assert deployments["trade-cycle"]["concurrency_limit"]["limit"] == 1
    assert deployments["stop-sentinel"]["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    assert "schedules" not in deployments["stop-sentinel"] and "triggers" not in deployments["stop-sentinel"]


def test_default_parameters_are_accepted_by_each_flow(deployments):
    for d in deployments.values():
        if not (ROOT / d["entrypoint"].split(":")[0]).is_file():
            continue
        names = set(inspect.signature(_flow_of(d["entrypoint"]).fn).parameters)
        given = set(d.get("parameters", {}))
        for s in d.get("schedules", []):
            given |= set(s.get("parameters", {}))
        assert given <= names, f"{d['name']}: unknown parameters {sorted(given - names)}"


def test_the_supervisor_reads_the_same_deployments_and_resolves_names(deployments):
    from tradebot.errors import ConfigError
    from tradebot.services.prefect_yaml import load_prefect_yaml, resolve, split_present

    specs = load_prefect_yaml(PREFECT_YAML)
    assert [s.name for s in specs] == list(deployments)
    present, missing = split_present(specs, ROOT)
    assert {s.path for s in missing} <= PENDING and len(present) + len(missing) == len(specs)
    assert resolve(specs, "trade_cycle").full_name == "trade_cycle/trade-cycle"
    assert resolve(specs, "ingest-news-5m").full_name == "ingest_news/ingest-news-5m"
    with pytest.raises(ConfigError, match="no deployment called 'nope'"):
        resolve(specs, "nope")
