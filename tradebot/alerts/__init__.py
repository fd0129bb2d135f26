"""Alerts: typed events routed to Slack, email, Telegram and Discord with de-duplication and a history."""

from tradebot.alerts.config import AlertsConfig
from tradebot.alerts.events import (
    AlertEvent,
    DailyLimitHit,
    DailyReport,
    DataQualityFailure,
    FeedStale,
    FlowFailure,
    KillSwitch,
    OrderRejected,
    ReconciliationDrift,
    RenderedAlert,
    Severity,
    StopTriggered,
    TestAlert,
    parse_event,
)
from tradebot.alerts.router import AlertRouter, SendResult, send_test_alert

__all__ = [
    "AlertEvent", "AlertRouter", "AlertsConfig", "DailyLimitHit", "DailyReport", "DataQualityFailure", "FeedStale",
    "FlowFailure", "KillSwitch", "OrderRejected", "ReconciliationDrift", "RenderedAlert", "SendResult", "Severity",
    "StopTriggered", "TestAlert", "parse_event", "send_test_alert",
]
