"""The alert router end to end: real channel clients against local fakes, history in a migrated ledger."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.fakes.discord_server import FakeDiscordServer
from tests.fakes.slack_server import FakeSlackServer
from tests.fakes.smtp import FakeSMTPServer
from tests.fakes.telegram_server import FakeTelegramServer
from tradebot.alerts import AlertRouter, AlertsConfig, FlowFailure, KillSwitch, StopTriggered, send_test_alert
from tradebot.metrics import Metrics
from tradebot.store.ops import AlertRow


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fakes():
    with FakeSlackServer() as slack, FakeTelegramServer() as telegram, FakeDiscordServer() as discord, \
            FakeSMTPServer() as smtp:
        yield {"slack": slack, "telegram": telegram, "discord": discord, "smtp": smtp}


def config_for(fakes, **overrides) -> AlertsConfig:
    data = {
        "window_seconds": 60, "retries": 2, "retry_backoff_seconds": 0.01, "retry_backoff_max_seconds": 0.05,
        "timeout_seconds": 2,
        "slack": {"enabled": True, "min_severity": "info", "bot_token": fakes["slack"].token, "channel": "#ops",
                  "base_url": fakes["slack"].api_url},
        "email": {"enabled": True, "host": "127.0.0.1", "port": fakes["smtp"].port, "security": "none",
                  "sender": "bot@example.test", "recipients": ["ops@example.test"]},
        "telegram": {"enabled": True, "bot_token": fakes["telegram"].token, "chat_id": "42",
                     "base_url": fakes["telegram"].base},
        "discord": {"enabled": True, "webhook_url": fakes["discord"].webhook_url},
    }
    data.update(overrides)
    return AlertsConfig.model_validate(data)


def alert_rows(sessions):
    with sessions() as s:
        return list(s.scalars(select(AlertRow).order_by(AlertRow.id)))


def test_one_alert_reaches_all_four_channels_and_the_history_says_so(fakes, sessions):
    metrics = Metrics(process=False)
    router = AlertRouter(config_for(fakes), sessions, clock=Clock(), metrics=metrics)
    result = router.send(KillSwitch(actor="ops", reason="drawdown"))
    assert result.status == "sent"
    assert result.channels == {"slack": "sent", "email": "sent", "telegram": "sent", "discord": "sent"}
    assert len(fakes["slack"].messages()) == len(fakes["telegram"].messages()) == len(fakes["discord"].messages()) == 1
    assert fakes["smtp"].wait_for(1)[0].message["Subject"].endswith("Kill switch engaged: trading halted")
    row = alert_rows(sessions)[0]
    assert (row.kind, row.severity, row.key, row.delivery) == ("kill_switch", "critical", "kill_switch:engaged", "sent")
    assert {name: c["status"] for name, c in row.payload["channels"].items()} == dict.fromkeys(result.channels, "sent")
    assert metrics.registry.get_sample_value("tradebot_alerts_sent_total",
                                             {"channel": "discord", "outcome": "sent"}) == 1


def test_three_identical_alerts_reach_slack_once_then_once_more_as_an_x3_summary(fakes, sessions):
    clock = Clock()
    config = config_for(fakes, email={"enabled": False}, telegram={"enabled": False}, discord={"enabled": False})
    router = AlertRouter(config, sessions, clock=clock)
    stop = StopTriggered(symbol="AAPL", stop_price=Decimal("180.5"), last_price=Decimal("180.1"))
    for _ in range(3):
        router.send(stop)
    assert len(fakes["slack"].messages()) == 1
    assert alert_rows(sessions)[0].count == 3
    clock.now += timedelta(seconds=61)
    summaries = router.flush()
    messages = fakes["slack"].messages()
    assert [s.count for s in summaries] == [3] and len(messages) == 2
    assert messages[1]["text"] == "[WARNING] Stop triggered on AAPL (x3)"
    assert "Repeated 3 times within 60s" in messages[1]["blocks"][1]["text"]["text"]
    assert router.flush() == [] and len(fakes["slack"].messages()) == 2


def test_slack_down_is_retried_a_bounded_number_of_times_recorded_and_others_still_deliver(fakes, sessions):
    fakes["slack"].go_down()
    router = AlertRouter(config_for(fakes), sessions, clock=Clock())
    result = router.send(FlowFailure(flow="trade_cycle", error="boom"))
    assert result.status == "failed"
    assert result.channels["slack"].startswith("failed: slack: cannot reach the Web API")
    assert "attempts=3" in result.channels["slack"]
    assert {n: o for n, o in result.channels.items() if n != "slack"} == dict.fromkeys(
        ("email", "telegram", "discord"), "sent")
    row = alert_rows(sessions)[0]
    assert row.delivery == "failed" and row.payload["channels"]["slack"]["status"] == "failed"


def test_slack_answering_500_twice_then_ok_is_delivered_on_the_third_attempt(fakes, sessions):
    fakes["slack"].script.extend(["500", "500"])
    config = config_for(fakes, email={"enabled": False}, telegram={"enabled": False}, discord={"enabled": False})
    result = AlertRouter(config, sessions, clock=Clock()).send(KillSwitch())
    assert result.channels == {"slack": "sent"}
    assert len(fakes["slack"].requests) == 3


def test_discord_429_waits_the_retry_after_it_was_given_then_delivers(fakes, sessions):
    fakes["discord"].script.append("429")
    waits: list[float] = []
    config = config_for(fakes, slack={"enabled": False}, email={"enabled": False}, telegram={"enabled": False},
                        retry_backoff_max_seconds=1)
    result = AlertRouter(config, sessions, clock=Clock(), sleep=waits.append).send(KillSwitch())
    assert result.channels == {"discord": "sent"} and waits == [0.05]


def test_send_test_alert_reports_each_enabled_channel_and_names_what_is_wrong(fakes, sessions):
    config = config_for(fakes)
    assert send_test_alert(config, sessions) == dict.fromkeys(("slack", "email", "telegram", "discord"), "sent")
    fakes["telegram"].mode = "error"
    only = send_test_alert(config, sessions, "telegram")
    assert list(only) == ["telegram"] and only["telegram"].startswith("failed: telegram: HTTP 400 Bad Request: chat")
    assert send_test_alert(config_for(fakes, discord={"enabled": False}), sessions, "discord") == {
        "discord": "failed: not enabled: set alerts.discord.enabled=true (enabled: slack, email, telegram)"}
    assert send_test_alert(config, sessions, "pager")["pager"].startswith("failed: unknown channel")
    assert [r.kind for r in alert_rows(sessions)] == ["test", "test"]


def test_a_webhook_token_in_an_error_never_lands_in_the_history(fakes, sessions):
    fakes["discord"].go_down()
    config = config_for(fakes, slack={"enabled": False}, email={"enabled": False}, telegram={"enabled": False})
    token = fakes["discord"].webhook_url.rsplit("/", 1)[-1]
    url = config.discord.webhook_url.get_secret_value()
    AlertRouter(config, sessions, clock=Clock()).send(FlowFailure(flow="x", error=f"posting to {url} failed"))
    row = alert_rows(sessions)[0]
    assert row.delivery == "failed"
    assert token not in str(row.payload) and token not in row.message
