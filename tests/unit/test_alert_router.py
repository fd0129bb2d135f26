"""Alert router rules: routing, de-duplication windows, rate limits, retries and history, with in-process channels."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from tradebot.alerts import (
    AlertRouter,
    AlertsConfig,
    DailyReport,
    FeedStale,
    KillSwitch,
    OrderRejected,
    Severity,
    StopTriggered,
    parse_event,
)
from tradebot.alerts.channels import DeliveryError
from tradebot.logs import Redactor
from tradebot.metrics import Metrics
from tradebot.store.db import make_engine, session_factory
from tradebot.store.ops import AlertRow

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ListChannel:
    """An in-process channel that records what it was asked to send and can be told to fail."""

    def __init__(self, name: str, failures: list[DeliveryError] | None = None) -> None:
        self.name, self.sent, self.attempts = name, [], 0
        self.failures = list(failures or [])

    def send(self, alert) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(alert)


def cfg(**kw) -> AlertsConfig:
    base = {"window_seconds": 60, "retries": 2, "retry_backoff_seconds": 0.5, "retry_backoff_max_seconds": 5,
            "slack": {"enabled": True, "min_severity": "info"}, "email": {"enabled": True, "min_severity": "error"}}
    return AlertsConfig.model_validate({**base, **kw})


def stop(symbol: str = "AAPL") -> StopTriggered:
    return StopTriggered(symbol=symbol, stop_price=Decimal("180.5"), last_price=Decimal("180.1"))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def slack():
    return ListChannel("slack")


@pytest.fixture
def email():
    return ListChannel("email")


def make_router(config, sessions, clock, *channels, sleeps=None):
    return AlertRouter(config, sessions, clock=clock, channels={c.name: c for c in channels},
                       metrics=Metrics(process=False), redactor=Redactor(),
                       sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def rows(sessions):
    with sessions() as s:
        return list(s.scalars(select(AlertRow).order_by(AlertRow.id)))


def test_each_channel_gets_only_the_kinds_and_severities_its_rule_accepts(sessions, clock, slack, email):
    router = make_router(cfg(slack={"enabled": True, "kinds": ["stop_triggered"], "min_severity": "info"}),
                         sessions, clock, slack, email)
    router.send(stop())
    router.send(FeedStale(feed="alpaca", stale_seconds=120, threshold_seconds=60))
    router.send(DailyReport(day=date(2026, 3, 2), equity=Decimal("100000"), pnl=Decimal("12.5")))
    assert [a.kind for a in slack.sent] == ["stop_triggered"]
    assert [a.kind for a in email.sent] == ["feed_stale"]
    assert rows(sessions)[-1].delivery == "suppressed"
    assert rows(sessions)[-1].payload["reason"] == "no channel rule accepts it"


def test_three_identical_alerts_in_the_window_send_once_count_three_and_summarize_once(sessions, clock, slack):
    router = make_router(cfg(), sessions, clock, slack)
    results = [router.send(stop()) for _ in range(3)]
    assert [r.status for r in results] == ["sent", "deduplicated", "deduplicated"]
    assert len(slack.sent) == 1
    assert rows(sessions)[0].count == 3
    clock.advance(61)
    router.send(stop("MSFT"))  # any later send closes due windows first
    titles = [a.headline for a in slack.sent]
    assert titles == ["[WARNING] Stop triggered on AAPL", "[WARNING] Stop triggered on AAPL (x3)",
                      "[WARNING] Stop triggered on MSFT"]
    assert router.flush() == []  # the summary went out once; nothing is left to flush
    assert rows(sessions)[0].payload["summary"]["count"] == 3


def test_flush_closes_open_windows_and_the_next_repeat_is_sent_at_once(sessions, clock, slack):
    router = make_router(cfg(), sessions, clock, slack)
    router.send(stop())
    router.send(stop())
    summaries = router.flush()
    assert [(s.count, s.channels) for s in summaries] == [(2, {"slack": "sent"})]
    assert "Repeated 2 times" in slack.sent[-1].text
    assert router.send(stop()).status == "sent"
    assert len(slack.sent) == 3


def test_a_single_alert_needs_no_summary_when_its_window_closes(sessions, clock, slack):
    router = make_router(cfg(), sessions, clock, slack)
    router.send(stop())
    assert router.flush() == []
    assert len(slack.sent) == 1


def test_a_repeat_after_the_window_is_a_new_alert(sessions, clock, slack):
    router = make_router(cfg(), sessions, clock, slack)
    router.send(stop())
    clock.advance(60)
    assert router.send(stop()).status == "sent"
    assert [r.count for r in rows(sessions)] == [1, 1]


def test_an_escalation_of_the_same_key_is_not_collapsed(sessions, clock, slack):
    router = make_router(cfg(), sessions, clock, slack)
    router.send(stop())
    assert router.send(stop().model_copy(update={"severity": Severity.CRITICAL})).channels["slack"] == "sent"


def test_de_duplication_holds_across_router_instances_through_the_ledger(sessions, clock, slack):
    make_router(cfg(), sessions, clock, slack).send(stop())
    assert make_router(cfg(), sessions, clock, slack).send(stop()).status == "deduplicated"
    assert len(slack.sent) == 1


def test_the_rate_limit_suppresses_excess_messages_per_channel_but_never_critical_ones(sessions, clock, slack):
    router = make_router(cfg(rate_limit=2, rate_window_seconds=60), sessions, clock, slack)
    results = [router.send(stop(sym)) for sym in ("A", "B", "C")]
    assert [r.channels["slack"].split(":")[0] for r in results] == ["sent", "sent", "suppressed"]
    assert rows(sessions)[2].delivery == "suppressed"
    assert router.send(KillSwitch(reason="manual")).channels["slack"] == "sent"
    clock.advance(60)
    assert router.send(stop("D")).status == "sent"


def test_a_failing_channel_is_retried_with_doubling_backoff_then_recorded_as_failed(sessions, clock, slack, email):
    broken = ListChannel("email", [DeliveryError("email: down")] * 5)
    sleeps: list[float] = []
    router = make_router(cfg(), sessions, clock, slack, broken, sleeps=sleeps)
    result = router.send(FeedStale(feed="alpaca", stale_seconds=300, threshold_seconds=60))
    assert broken.attempts == 3 and sleeps == [0.5, 1.0]
    assert result.status == "failed" and result.channels["slack"] == "sent"
    row = rows(sessions)[0]
    assert row.delivery == "failed"
    assert row.payload["channels"]["email"]["status"] == "failed"
    assert "attempts=3" in row.payload["channels"]["email"]["detail"]


def test_retry_after_from_the_service_stretches_the_wait_up_to_the_cap(sessions, clock):
    flaky = ListChannel("slack", [DeliveryError("429", retry_after=2.0), DeliveryError("429", retry_after=99.0)])
    sleeps: list[float] = []
    router = make_router(cfg(), sessions, clock, flaky, sleeps=sleeps)
    assert router.send(stop()).status == "sent"
    assert sleeps == [2.0, 5.0]


def test_a_permanent_error_is_not_retried(sessions, clock):
    bad = ListChannel("slack", [DeliveryError("slack: invalid_auth", retryable=False)])
    router = make_router(cfg(), sessions, clock, bad)
    assert router.send(stop()).channels["slack"].startswith("failed: slack: invalid_auth")
    assert bad.attempts == 1


def test_a_channel_that_raises_anything_does_not_escape_the_router(sessions, clock, slack):
    class Exploding:
        name = "email"

        def send(self, alert):
            raise RuntimeError("boom")

    router = make_router(cfg(retries=0), sessions, clock, slack, Exploding())
    result = router.send(KillSwitch())
    assert result.channels == {"slack": "sent", "email": "failed: email: unexpected RuntimeError: boom (attempts=1)"}


def test_an_unreachable_ledger_still_delivers_and_does_not_raise(tmp_path, clock, slack):
    empty = session_factory(make_engine(f"sqlite:///{tmp_path / 'no-schema.db'}"))
    router = make_router(cfg(), empty, clock, slack)
    result = router.send(stop())
    assert result.alert_id is None and result.status == "sent" and len(slack.sent) == 1
    assert router.flush() == []


def test_disabled_alerts_are_recorded_as_suppressed(sessions, clock, slack):
    router = make_router(cfg(enabled=False), sessions, clock, slack)
    assert router.send(KillSwitch()).status == "suppressed"
    assert slack.sent == [] and rows(sessions)[0].payload["reason"] == "alerts disabled"


def test_an_enabled_channel_missing_its_secret_fails_with_a_message_naming_the_key(sessions, clock):
    router = AlertRouter(cfg(email={"enabled": False}), sessions, clock=clock, metrics=Metrics(process=False))
    result = router.send(KillSwitch())
    assert "alerts.slack is enabled but needs bot_token and channel, or webhook_url" in result.channels["slack"]


def test_secrets_in_event_text_never_reach_the_history_or_the_channel(sessions, clock, slack):
    config = cfg(telegram={"bot_token": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789a", "chat_id": "1"})
    router = make_router(config, sessions, clock, slack)
    router.send(OrderRejected(symbol="AAPL", side="buy", qty=Decimal(1),
                              reason="auth failed for token 123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789a"))
    row = rows(sessions)[0]
    assert "ABCdefGHI" not in str(row.payload) and "ABCdefGHI" not in row.message
    assert "ABCdefGHI" not in slack.sent[0].text


def test_events_round_trip_through_their_discriminator_and_have_stable_keys():
    event = stop()
    again = parse_event(event.model_dump(mode="json"))
    assert again == event and again.key == "stop_triggered:AAPL"
    assert KillSwitch().key == "kill_switch:engaged" and KillSwitch().severity is Severity.CRITICAL
    rendered = DailyReport(day=date(2026, 3, 2), equity=Decimal("100000"), pnl=Decimal("-5")).render()
    assert rendered.key == "daily_report:2026-03-02" and ("PnL", "-5") in rendered.fields


def test_config_refuses_unknown_kinds_and_unknown_keys():
    with pytest.raises(ValidationError, match="unknown alert kinds"):
        AlertsConfig.model_validate({"slack": {"kinds": ["stop_trigered"]}})
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate({"slack": {"tokn": "x"}})


def test_keyring_secrets_fill_only_what_the_config_leaves_empty():
    config = AlertsConfig.model_validate({"slack": {"enabled": True, "channel": "#ops"},
                                          "discord": {"webhook_url": "https://example.invalid/from-file"}})
    store = {"slack_token": "xoxb-from-keyring", "discord_webhook": "https://example.invalid/from-keyring"}
    filled = config.with_keyring_secrets(store.get)
    assert filled.slack.bot_token == SecretStr("xoxb-from-keyring") and filled.slack.missing() is None
    assert filled.discord.webhook_url == SecretStr("https://example.invalid/from-file")
    assert "xoxb-from-keyring" in filled.secret_values()
