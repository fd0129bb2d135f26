"""Flow `notify_stop`: the alert for a protective stop, run on the sentinel's `tradebot.stop.triggered` event."""

from __future__ import annotations

from decimal import Decimal

from prefect import flow

from flows.notify_alert import route_alert


@flow(name="notify_stop", log_prints=True)
def notify_stop(symbol: str, stop_price: Decimal, last_price: Decimal, qty: Decimal | None = None,
                config_path: str | None = None, overrides: dict | None = None) -> dict:
    """Send a StopTriggered alert (repeats of one symbol inside the router's window collapse into one)."""
    from tradebot.alerts import StopTriggered

    return route_alert(StopTriggered(symbol=symbol, stop_price=stop_price, last_price=last_price, qty=qty),
                       config_path, overrides)
