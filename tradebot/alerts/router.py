"""Route alert events to channels with de-duplication, rate limits, bounded retries and a ledger history."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from tradebot.alerts.channels import Channel, DeliveryError, build_channels
from tradebot.alerts.config import AlertsConfig
from tradebot.alerts.events import AlertEvent, RenderedAlert, Severity, TestAlert
from tradebot.logs import REDACTOR, Redactor
from tradebot.metrics import Metrics, get_metrics
from tradebot.store.db import transaction
from tradebot.store.ops import AlertRow

log = logging.getLogger(__name__)
# Repeats counted while a process was down still get their summary if the next run starts within this.
_SUMMARY_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class SendResult:
    """What became of one send(): the AlertRow id, the overall status and each channel's outcome."""

    alert_id: int | None
    status: str  # sent | failed | suppressed | deduplicated
    channels: dict[str, str] = field(default_factory=dict)  # name -> sent | failed: why | suppressed: why
    count: int = 1


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _overall(outcomes: Mapping[str, str]) -> str:
    # A partial failure counts as failed: someone should look at the channel that missed it.
    if any(o.startswith("failed") for o in outcomes.values()):
        return "failed"
    return "sent" if any(o == "sent" for o in outcomes.values()) else "suppressed"


class AlertRouter:
    """Sends events to the channels whose rules accept them; never raises into the caller."""

    def __init__(self, config: AlertsConfig, sessions: sessionmaker[Session], clock: Callable[[], datetime] = _utcnow,
                 channels: Mapping[str, Channel] | None = None, metrics: Metrics | None = None,
                 redactor: Redactor | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sessions, self._clock, self._sleep = sessions, clock, sleep
        self._metrics = metrics or get_metrics()
        self._redactor = redactor or REDACTOR
        self._redactor.register(*config.secret_values())
        if channels is None:
            built, self._broken = build_channels(config)
            self._channels: dict[str, Channel] = dict(built)
        else:
            self._channels, self._broken = dict(channels), {}
        for name, reason in self._broken.items():
            log.warning("alert channel %s cannot deliver: %s", name, reason)
        self._sent_at: dict[str, deque[float]] = {}
        self._lock = threading.RLock()

    def __enter__(self) -> AlertRouter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    # -- public API -------------------------------------------------------------------------------------------

    def routes(self, kind: str, severity: Severity) -> list[str]:
        """Return the channel names whose rules accept this kind at this severity."""
        return [name for name, section in self.config.channel_sections() if section.accepts(kind, severity)]

    def send(self, event: AlertEvent) -> SendResult:
        """Deliver event now, or count it against an open window for its key; record the outcome."""
        with self._lock:
            try:
                return self._send(event)
            except Exception as exc:  # a flow must never crash because alerting did
                log.exception("alert router failed on %s", getattr(event, "kind", "?"))
                self._metrics.error("alerts")
                return SendResult(None, "failed", {"router": f"failed: {type(exc).__name__}"})

    def flush(self) -> list[SendResult]:
        """Close every open window now, sending the "(xN)" summary for keys that repeated; return those."""
        with self._lock:
            try:
                return self._close_windows(self._clock(), everything=True)
            except Exception:
                log.exception("alert router flush failed")
                self._metrics.error("alerts")
                return []

    def send_direct(self, event: AlertEvent, names: list[str]) -> SendResult:
        """Deliver event to the named channels, ignoring routing rules and windows (test alerts)."""
        with self._lock:
            rendered = self._render(event)
            now = self._clock()
            alert_id = self._guard(lambda: self._insert(event, rendered, names, now))
            outcomes = self._deliver_all(names, rendered, rate_limited=False)
            if alert_id is not None:
                self._guard(lambda: self._finish(alert_id, outcomes))
            return SendResult(alert_id, _overall(outcomes), outcomes)

    # -- steps ------------------------------------------------------------------------------------------------

    def _send(self, event: AlertEvent) -> SendResult:
        now = self._clock()
        rendered = self._render(event)
        self._guard(lambda: self._close_windows(now, everything=False))
        if self.config.enabled and self.config.window_seconds > 0:
            repeat = self._guard(lambda: self._count_repeat(event, now))
            if repeat is not None:
                return repeat
        names = self.routes(event.kind, event.severity) if self.config.enabled else []
        alert_id = self._guard(lambda: self._insert(event, rendered, names, now))
        outcomes = self._deliver_all(names, rendered, rate_limited=True)
        if not names:
            log.info("alert %s routed to no channel", rendered.key)
        if alert_id is not None:
            self._guard(lambda: self._finish(alert_id, outcomes))
        return SendResult(alert_id, _overall(outcomes) if names else "suppressed", outcomes)

    def _guard(self, step: Callable[[], Any]) -> Any:
        # The ledger being locked or down must not stop delivery: log, count, carry on without history.
        try:
            return step()
        except Exception:
            log.exception("alert history unavailable; delivering without it")
            self._metrics.error("alerts")
            return None

    def _render(self, event: AlertEvent) -> RenderedAlert:
        r = event.render()
        red = self._redactor.redact
        return replace(r, title=red(r.title), text=red(r.text), fields=tuple((n, red(v)) for n, v in r.fields))

    def _count_repeat(self, event: AlertEvent, now: datetime) -> SendResult | None:
        window = timedelta(seconds=self.config.window_seconds)
        with transaction(self._sessions) as s:
            row = s.scalars(select(AlertRow).where(AlertRow.key == event.key).order_by(AlertRow.id.desc())
                            .limit(1)).first()
            if row is None or row.payload.get("closed_at") or now >= row.created_at + window:
                return None
            # An escalation (say warning -> critical) is news, not a repeat.
            if Severity(row.severity).rank < event.severity.rank:
                return None
            row.count += 1
            row.payload = {**row.payload, "last_seen": now.isoformat()}
            self._metrics.alert("all", "deduplicated")
            return SendResult(row.id, "deduplicated", {}, row.count)

    def _insert(self, event: AlertEvent, rendered: RenderedAlert, names: list[str], now: datetime) -> int:
        payload = {
            "event": self._redactor.redact_obj(event.model_dump(mode="json")),
            "rendered": {"title": rendered.title, "text": rendered.text, "fields": [list(f) for f in rendered.fields]},
            "routes": names,
            "window_end": (now + timedelta(seconds=self.config.window_seconds)).isoformat(),
            "channels": {n: {"status": "pending"} for n in names},
        }
        if not names:
            payload["reason"] = "alerts disabled" if not self.config.enabled else "no channel rule accepts it"
        with transaction(self._sessions) as s:
            row = AlertRow(kind=event.kind, severity=event.severity.value, key=event.key[:128],
                           message=rendered.as_text(), payload=payload, count=1,
                           delivery="pending" if names else "suppressed", created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def _finish(self, alert_id: int, outcomes: Mapping[str, str], summary: bool = False) -> None:
        now = self._clock().isoformat()
        with transaction(self._sessions) as s:
            row = s.get(AlertRow, alert_id)
            if row is None:
                return
            channels = {n: {"status": o.split(":", 1)[0], "detail": o, "at": now} for n, o in outcomes.items()}
            if summary:
                row.payload = {**row.payload, "summary": {"count": row.count, "channels": channels, "at": now},
                               "closed_at": now}
                if _overall(outcomes) == "failed":
                    row.delivery = "failed"
            else:
                row.payload = {**row.payload, "channels": channels}
                if outcomes:
                    row.delivery = _overall(outcomes)

    def _close_windows(self, now: datetime, everything: bool) -> list[SendResult]:
        window = timedelta(seconds=self.config.window_seconds)
        recent = AlertRow.created_at >= now - window
        repeated = (AlertRow.count > 1) & (AlertRow.created_at >= now - _SUMMARY_LOOKBACK)
        with transaction(self._sessions) as s:
            rows = s.scalars(select(AlertRow).where(or_(recent, repeated) if everything else repeated)
                             .order_by(AlertRow.id)).all()
            due: list[tuple[int, RenderedAlert, list[str], int]] = []
            for row in rows:
                if row.payload.get("closed_at") or not (everything or now >= row.created_at + window):
                    continue
                if row.count <= 1:
                    row.payload = {**row.payload, "closed_at": now.isoformat()}
                    continue
                shown = row.payload.get("rendered") or {}
                first = RenderedAlert(kind=row.kind, severity=Severity(row.severity), key=row.key,
                                      title=shown.get("title", row.kind), text=shown.get("text", row.message),
                                      fields=tuple((str(n), str(v)) for n, v in shown.get("fields", [])))
                due.append((row.id, first, list(row.payload.get("routes", [])), row.count))
        results = []
        for alert_id, first, names, count in due:
            summary = first.summarized(count, self.config.window_seconds)
            outcomes = self._deliver_all(names, summary, rate_limited=False)
            self._finish(alert_id, outcomes, summary=True)
            results.append(SendResult(alert_id, _overall(outcomes) if names else "suppressed", outcomes, count))
        return results

    # -- delivery ---------------------------------------------------------------------------------------------

    def _deliver_all(self, names: list[str], alert: RenderedAlert, rate_limited: bool) -> dict[str, str]:
        outcomes: dict[str, str] = {}
        for name in names:
            if name in self._broken:
                outcomes[name] = f"failed: {self._broken[name]}"
            elif name not in self._channels:
                outcomes[name] = "failed: channel not configured"
            elif rate_limited and alert.severity is not Severity.CRITICAL and not self._admit(name):
                outcomes[name] = (f"suppressed: rate limit {self.config.rate_limit} per "
                                  f"{self.config.rate_window_seconds:g}s")
            else:
                outcomes[name] = self._deliver(name, self._channels[name], alert)
            self._metrics.alert(name, outcomes[name].split(":", 1)[0])
        return outcomes

    def _admit(self, name: str) -> bool:
        # Sliding window per channel, on the router's clock so tests can step time.
        now = self._clock().timestamp()
        sent = self._sent_at.setdefault(name, deque())
        while sent and now - sent[0] >= self.config.rate_window_seconds:
            sent.popleft()
        if len(sent) >= self.config.rate_limit:
            return False
        sent.append(now)
        return True

    def _deliver(self, name: str, channel: Channel, alert: RenderedAlert) -> str:
        delay = self.config.retry_backoff_seconds
        for attempt in range(1, self.config.retries + 2):
            try:
                channel.send(alert)
                return "sent"
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # a channel bug must not escape either
                error = DeliveryError(f"{name}: unexpected {type(exc).__name__}: {exc}")
            reason = self._redactor.redact(str(error))
            if not error.retryable or attempt > self.config.retries:
                log.warning("alert %s to %s failed after %d attempt(s): %s", alert.key, name, attempt, reason)
                return f"failed: {reason} (attempts={attempt})"
            wait = min(max(delay, error.retry_after or 0.0), self.config.retry_backoff_max_seconds)
            log.info("alert %s to %s failed (%s); retry %d in %.2fs", alert.key, name, reason, attempt, wait)
            self._sleep(wait)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def send_test_alert(config: AlertsConfig, sessions: sessionmaker[Session], channel: str | None = None,
                    **router_kwargs: Any) -> dict[str, str]:
    """Send a test alert to one channel (or every enabled one); return {channel: "sent" | "failed: reason"}."""
    enabled = [name for name, section in config.channel_sections() if section.enabled]
    if channel is not None and channel not in enabled:
        known = dict(config.channel_sections())
        why = "unknown channel" if channel not in known else f"not enabled: set alerts.{channel}.enabled=true"
        return {channel: f"failed: {why} (enabled: {', '.join(enabled) or 'none'})"}
    names = [channel] if channel is not None else enabled
    router = AlertRouter(config, sessions, **router_kwargs)
    result = router.send_direct(TestAlert(nonce=uuid.uuid4().hex[:12]), names)
    return {n: ("sent" if o == "sent" else o if o.startswith("failed") else f"failed: {o}")
            for n, o in result.channels.items()}
