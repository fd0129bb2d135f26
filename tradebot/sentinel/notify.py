"""Telling the world about a stop: the Prefect event and the alert, kept out of the tick loop's imports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradebot.sentinel.exits import ExitOutcome

log = logging.getLogger(__name__)
STOP_EVENT = "tradebot.stop.triggered"


def stop_payload(outcome: ExitOutcome) -> dict[str, str]:
    """Return the event payload: price, level, reason (plus the fields the notify-stop automation templates)."""
    hit = outcome.hit
    price = str(Decimal(repr(hit.price)))
    order = outcome.order
    return {"price": price, "level": str(hit.level), "reason": hit.reason, "leg": hit.leg,
            "symbol": hit.position.symbol, "account": hit.position.account,
            "stop_price": str(hit.level), "last_price": price, "qty": str(outcome.qty),
            "client_order_id": order.client_order_id if order else "", "order_status": order.status.value if order
            else "closed_by_broker_stop"}


def emit_stop_event(outcome: ExitOutcome) -> None:
    """Emit tradebot.stop.triggered for the hit's symbol; never raises (the exit is what matters)."""
    try:
        from prefect.events import emit_event

        emit_event(event=STOP_EVENT, resource={"prefect.resource.id": f"tradebot.symbol.{outcome.hit.position.symbol}"},
                   payload=stop_payload(outcome))
    except Exception:
        log.exception("could not emit %s for %s", STOP_EVENT, outcome.hit.position.symbol)


def stop_alert(outcome: ExitOutcome) -> Any:
    """Return the StopTriggered alert for an exit."""
    from tradebot.alerts.events import StopTriggered

    hit = outcome.hit
    return StopTriggered(symbol=hit.position.symbol, stop_price=hit.level, last_price=Decimal(repr(hit.price)),
                         qty=outcome.qty or None)


class Notifier:
    """Event plus alert per exit, and alerts for the health loop; send is the alert router's send."""

    def __init__(self, send_alert: Callable[[Any], Any] | None, emit: Callable[[ExitOutcome], None] = emit_stop_event
                 ) -> None:
        self._send, self._emit = send_alert, emit
        self.events: list[dict[str, str]] = []  # the latest payloads, for the status endpoint and tests

    def __call__(self, outcome: ExitOutcome) -> None:
        """Emit the stop event and raise the StopTriggered alert for outcome."""
        self.events.append(stop_payload(outcome))
        del self.events[:-100]
        self._emit(outcome)
        order = outcome.order
        if order is not None and order.status.value == "rejected":
            from tradebot.alerts.events import OrderRejected

            # The stop fired but the exit was refused: that is what someone has to act on.
            self.alert(OrderRejected(symbol=order.symbol, side=order.side.value, qty=order.qty,
                                     reason=order.reject_reason or "refused", client_order_id=order.client_order_id))
            return
        self.alert(stop_alert(outcome))

    def alert(self, event: Any) -> None:
        """Send an alert event through the router (recorded in the ledger); never raises."""
        if self._send is None:
            return
        try:
            self._send(event)
        except Exception:
            log.exception("alert %s failed", getattr(event, "kind", "?"))
