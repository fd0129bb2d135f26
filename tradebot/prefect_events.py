"""Typed Prefect events tradebot emits: one payload model per event name, and helpers that emit them.

Deployment triggers and automations in prefect.yaml / tradebot.automations match these names, and
template their parameters from the payload fields declared here (``{{ event.payload.symbol }}``).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

PRICES_INGESTED = "tradebot.prices.ingested"
EARNINGS_RELEASED = "tradebot.earnings.released"
ORDER_UNKNOWN = "tradebot.order.unknown"
STOP_TRIGGERED = "tradebot.stop.triggered"
KILL_SWITCH_ON = "tradebot.kill_switch.on"
KILL_SWITCH_OFF = "tradebot.kill_switch.off"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event: ClassVar[str]

    def resource(self) -> dict[str, str]:
        """Return the Prefect resource the event is about."""
        raise NotImplementedError

    def event_name(self) -> str:
        """Return the event name (some payloads pick it from their content)."""
        return self.event


class PricesIngested(_Payload):
    """New bars were stored: the trade cycle may run on them."""

    event: ClassVar[str] = PRICES_INGESTED
    assets: str = "all"
    timeframe: str
    rows: int = Field(ge=0)
    quarantined: int = Field(ge=0)
    symbols: tuple[str, ...] = ()
    end: datetime

    def resource(self) -> dict[str, str]:
        """Return tradebot.prices.ASSETS."""
        return {"prefect.resource.id": f"tradebot.prices.{self.assets}", "tradebot.timeframe": self.timeframe}


class EarningsReleased(_Payload):
    """A company's reported numbers (actual EPS) became known."""

    event: ClassVar[str] = EARNINGS_RELEASED
    symbol: str
    day: date
    eps_estimate: float | None = None
    eps_actual: float
    surprise: float | None = None

    def resource(self) -> dict[str, str]:
        """Return tradebot.earnings.SYMBOL."""
        return {"prefect.resource.id": f"tradebot.earnings.{self.symbol}", "tradebot.symbol": self.symbol}


class OrderUnknown(_Payload):
    """An order's outcome at the broker is unknown: reconciliation should look it up."""

    event: ClassVar[str] = ORDER_UNKNOWN
    client_order_id: str
    symbol: str
    run_id: str
    reason: str = ""

    def resource(self) -> dict[str, str]:
        """Return tradebot.order.CLIENT_ORDER_ID."""
        return {"prefect.resource.id": f"tradebot.order.{self.client_order_id}", "tradebot.symbol": self.symbol}


class StopHit(_Payload):
    """A protective stop fired (emitted by the stop sentinel)."""

    event: ClassVar[str] = STOP_TRIGGERED
    symbol: str
    stop_price: Decimal
    last_price: Decimal
    qty: Decimal | None = None
    client_order_id: str | None = None

    def resource(self) -> dict[str, str]:
        """Return tradebot.stop.SYMBOL."""
        return {"prefect.resource.id": f"tradebot.stop.{self.symbol}", "tradebot.symbol": self.symbol}


class KillSwitchChanged(_Payload):
    """The kill switch was turned on (trading paused) or off."""

    event: ClassVar[str] = KILL_SWITCH_ON
    engaged: bool
    actor: str
    reason: str = ""

    def event_name(self) -> str:
        """Return tradebot.kill_switch.on or .off."""
        return KILL_SWITCH_ON if self.engaged else KILL_SWITCH_OFF

    def resource(self) -> dict[str, str]:
        """Return tradebot.kill-switch."""
        return {"prefect.resource.id": "tradebot.kill-switch"}


def emit(payload: _Payload) -> Any:
    """Emit payload as its Prefect event; return the Event, or None when events cannot be sent (never raise)."""
    try:
        from prefect.events import emit_event

        return emit_event(event=payload.event_name(), resource=payload.resource(),
                          payload=payload.model_dump(mode="json"))
    except Exception:  # noqa: BLE001 - an event is a notification: losing one must not fail the flow
        log.warning("could not emit %s", payload.event_name(), exc_info=True)
        return None


def prices_ingested(assets: str, timeframe: str, rows: int, quarantined: int, symbols: list[str],
                    end: datetime) -> Any:
    """Announce that rows new bars were stored (the trade cycle's trigger)."""
    return emit(PricesIngested(assets=assets, timeframe=timeframe, rows=rows, quarantined=quarantined,
                               symbols=tuple(symbols), end=end))


def earnings_released(symbol: str, day: date, eps_actual: float, eps_estimate: float | None = None,
                      surprise: float | None = None) -> Any:
    """Announce one newly reported earnings release."""
    return emit(EarningsReleased(symbol=symbol, day=day, eps_actual=eps_actual, eps_estimate=eps_estimate,
                                 surprise=surprise))


def order_unknown(client_order_id: str, symbol: str, run_id: str, reason: str = "") -> Any:
    """Announce an order whose outcome is unknown (reconciliation resolves it)."""
    return emit(OrderUnknown(client_order_id=client_order_id, symbol=symbol, run_id=run_id, reason=reason))


def stop_triggered(symbol: str, stop_price: Decimal, last_price: Decimal, qty: Decimal | None = None,
                   client_order_id: str | None = None) -> Any:
    """Announce a protective stop that fired."""
    return emit(StopHit(symbol=symbol, stop_price=stop_price, last_price=last_price, qty=qty,
                        client_order_id=client_order_id))


def kill_switch_changed(engaged: bool, actor: str, reason: str = "") -> Any:
    """Announce the kill switch turning on (tradebot.kill_switch.on) or off, when a Prefect server is configured.

    Called from the CLI and the dashboard, outside any flow: without PREFECT_API_URL, Prefect would start a
    temporary server just to drop the event, and no automation could be listening on it anyway.
    """
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return None
    return emit(KillSwitchChanged(engaged=engaged, actor=actor, reason=reason))


def new_releases(before: list[Any], after: list[Any], since: date) -> list[Any]:
    """Return the EarningsEvents of after that gained an actual EPS (dated on or after since) versus before."""
    known = {(e.symbol, e.date) for e in before if e.eps_actual is not None}
    return [e for e in after if e.eps_actual is not None and e.date >= since and (e.symbol, e.date) not in known]
