"""Typed alert events: one model per kind, discriminated by `kind`, each rendering itself for humans."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Severity(StrEnum):
    """How urgent an alert is; ordered info < warning < error < critical."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return the position in the urgency order (info is 0)."""
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


@dataclass(frozen=True)
class RenderedAlert:
    """What every channel formats: a title, a text body and ordered name/value fields."""

    kind: str
    severity: Severity
    key: str
    title: str
    text: str
    fields: tuple[tuple[str, str], ...] = ()
    count: int = 1

    @property
    def headline(self) -> str:
        """Return the one-line form used for subjects and notification previews."""
        suffix = f" (x{self.count})" if self.count > 1 else ""
        return f"[{self.severity.value.upper()}] {self.title}{suffix}"

    def summarized(self, count: int, window_seconds: float) -> RenderedAlert:
        """Return the digest sent when a de-duplication window closes with repeats in it."""
        text = f"Repeated {count} times within {window_seconds:g}s (first one was sent at once).\n{self.text}"
        return replace(self, count=count, text=text)

    def as_text(self) -> str:
        """Return a plain-text body: headline, text, then one line per field."""
        lines = [self.headline, "", self.text]
        if self.fields:
            lines.append("")
            lines.extend(f"{name}: {value}" for name, value in self.fields)
        lines.extend(["", f"kind={self.kind} key={self.key}"])
        return "\n".join(lines)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity = Severity.WARNING

    @property
    def key(self) -> str:
        """Return the de-duplication key: repeats of one key inside the window collapse."""
        raise NotImplementedError

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        raise NotImplementedError

    def render(self) -> RenderedAlert:
        """Return the human form of this event."""
        title, text, fields = self._title_text_fields()
        kind = str(getattr(self, "kind"))  # noqa: B009 - every subclass declares its literal kind
        return RenderedAlert(kind=kind, severity=self.severity, key=self.key, title=title, text=text,
                             fields=tuple((n, str(v)) for n, v in fields if v is not None and v != ""))


class OrderRejected(_Event):
    """The broker or the risk gate refused an order."""

    kind: Literal["order_rejected"] = "order_rejected"
    symbol: str
    side: str
    qty: Decimal
    reason: str
    client_order_id: str | None = None

    @property
    def key(self) -> str:
        """Return order_rejected:SYMBOL."""
        return f"{self.kind}:{self.symbol}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Order rejected: {self.side} {self.qty} {self.symbol}", self.reason,
                [("Symbol", self.symbol), ("Side", self.side), ("Qty", self.qty),
                 ("Client order id", self.client_order_id)])


class StopTriggered(_Event):
    """A protective stop fired and an exit was sent."""

    kind: Literal["stop_triggered"] = "stop_triggered"
    symbol: str
    stop_price: Decimal
    last_price: Decimal
    qty: Decimal | None = None

    @property
    def key(self) -> str:
        """Return stop_triggered:SYMBOL."""
        return f"{self.kind}:{self.symbol}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Stop triggered on {self.symbol}", f"Last {self.last_price} crossed the stop at {self.stop_price}.",
                [("Symbol", self.symbol), ("Stop", self.stop_price), ("Last", self.last_price), ("Qty", self.qty)])


class DataQualityFailure(_Event):
    """A validation gate refused (part of) a batch."""

    kind: Literal["data_quality_failure"] = "data_quality_failure"
    dataset: str
    batch: str
    failed: tuple[str, ...] = ()
    unexpected_count: int = 0

    @property
    def key(self) -> str:
        """Return data_quality_failure:DATASET."""
        return f"{self.kind}:{self.dataset}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        failed = ", ".join(self.failed) or "unspecified"
        return (f"Data quality failure in {self.dataset}", f"Failed expectations: {failed}.",
                [("Batch", self.batch), ("Unexpected rows", self.unexpected_count)])


class PositionUnprotected(_Event):
    """An open position has had no broker-side protective order for longer than allowed."""

    kind: Literal["position_unprotected"] = "position_unprotected"
    severity: Severity = Severity.CRITICAL
    symbol: str
    account: str
    unprotected_seconds: float
    stop_price: Decimal | None = None
    detail: str = ""

    @property
    def key(self) -> str:
        """Return position_unprotected:ACCOUNT:SYMBOL."""
        return f"{self.kind}:{self.account}:{self.symbol}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Position {self.symbol} has no broker-side stop",
                f"No protective order at the broker for {self.unprotected_seconds:.0f}s. {self.detail}".strip(),
                [("Symbol", self.symbol), ("Account", self.account), ("Stop", self.stop_price)])


class FeedStale(_Event):
    """A price or news feed has not updated for longer than allowed."""

    kind: Literal["feed_stale"] = "feed_stale"
    severity: Severity = Severity.ERROR
    feed: str
    stale_seconds: float
    threshold_seconds: float
    last_update: str | None = None

    @property
    def key(self) -> str:
        """Return feed_stale:FEED."""
        return f"{self.kind}:{self.feed}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Feed {self.feed} is stale",
                f"No update for {self.stale_seconds:.0f}s (limit {self.threshold_seconds:.0f}s).",
                [("Feed", self.feed), ("Last update", self.last_update)])


class DailyLimitHit(_Event):
    """A daily risk limit (loss, orders, turnover) was reached; new entries are blocked."""

    kind: Literal["daily_limit_hit"] = "daily_limit_hit"
    severity: Severity = Severity.ERROR
    limit: str
    value: str
    threshold: str

    @property
    def key(self) -> str:
        """Return daily_limit_hit:LIMIT."""
        return f"{self.kind}:{self.limit}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Daily limit hit: {self.limit}", f"{self.limit} reached {self.value} (limit {self.threshold}).",
                [("Limit", self.limit), ("Value", self.value), ("Threshold", self.threshold)])


class KillSwitch(_Event):
    """Trading was halted (or resumed) by the kill switch."""

    kind: Literal["kill_switch"] = "kill_switch"
    severity: Severity = Severity.CRITICAL
    engaged: bool = True
    actor: str = "system"
    reason: str = ""

    @property
    def key(self) -> str:
        """Return kill_switch:engaged or kill_switch:released."""
        return f"{self.kind}:{'engaged' if self.engaged else 'released'}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        state = "engaged: trading halted" if self.engaged else "released: trading resumed"
        return (f"Kill switch {state}", self.reason or "No reason given.", [("By", self.actor)])


class ReconciliationDrift(_Event):
    """The ledger and the broker disagree about a position."""

    kind: Literal["reconciliation_drift"] = "reconciliation_drift"
    severity: Severity = Severity.ERROR
    symbol: str
    ledger_qty: Decimal
    broker_qty: Decimal
    detail: str = ""  # what differs when it is not the position itself (an order, a fill), and what was done

    @property
    def key(self) -> str:
        """Return reconciliation_drift:SYMBOL."""
        return f"{self.kind}:{self.symbol}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Reconciliation drift on {self.symbol}",
                self.detail or f"Ledger holds {self.ledger_qty}, broker reports {self.broker_qty}.",
                [("Symbol", self.symbol), ("Ledger qty", self.ledger_qty), ("Broker qty", self.broker_qty)])


class FlowFailure(_Event):
    """A Prefect flow run failed or crashed."""

    kind: Literal["flow_failure"] = "flow_failure"
    severity: Severity = Severity.ERROR
    flow: str
    error: str
    flow_run_id: str | None = None
    url: str | None = None

    @property
    def key(self) -> str:
        """Return flow_failure:FLOW."""
        return f"{self.kind}:{self.flow}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Flow {self.flow} failed", self.error,
                [("Flow run", self.flow_run_id), ("Link", self.url)])


class DailyReport(_Event):
    """End-of-day summary of performance and activity."""

    kind: Literal["daily_report"] = "daily_report"
    severity: Severity = Severity.INFO
    day: date
    equity: Decimal
    pnl: Decimal
    orders: int = 0
    fills: int = 0
    notes: str = ""

    @property
    def key(self) -> str:
        """Return daily_report:YYYY-MM-DD."""
        return f"{self.kind}:{self.day.isoformat()}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return (f"Daily report {self.day.isoformat()}", self.notes or f"PnL {self.pnl}, equity {self.equity}.",
                [("Equity", self.equity), ("PnL", self.pnl), ("Orders", self.orders), ("Fills", self.fills)])


class TestAlert(_Event):
    """A harmless message sent by `tradebot alerts test` to prove a channel works."""

    __test__ = False  # not a pytest test class, whatever its name
    kind: Literal["test"] = "test"
    severity: Severity = Severity.INFO
    nonce: str
    note: str = "If you can read this, tradebot can reach this channel."

    @property
    def key(self) -> str:
        """Return test:NONCE, unique per run so tests are never de-duplicated."""
        return f"{self.kind}:{self.nonce}"

    def _title_text_fields(self) -> tuple[str, str, list[tuple[str, Any]]]:
        return ("Test alert from tradebot", self.note, [("Nonce", self.nonce)])


AlertEvent = Annotated[
    OrderRejected | StopTriggered | DataQualityFailure | FeedStale | PositionUnprotected | DailyLimitHit | KillSwitch
    | ReconciliationDrift | FlowFailure | DailyReport | TestAlert,
    Field(discriminator="kind"),
]
KINDS: tuple[str, ...] = (
    "order_rejected", "stop_triggered", "data_quality_failure", "feed_stale", "position_unprotected",
    "daily_limit_hit", "kill_switch",
    "reconciliation_drift", "flow_failure", "daily_report", "test",
)
_ADAPTER: TypeAdapter[Any] = TypeAdapter(AlertEvent)


def parse_event(data: dict[str, Any]) -> AlertEvent:
    """Build the right event class from a dict carrying `kind` (e.g. one read back from AlertRow.payload)."""
    return _ADAPTER.validate_python(data)
