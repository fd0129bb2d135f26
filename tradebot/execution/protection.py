"""Broker-side protection: which working orders guard a holding, attaching it to entries, clearing it for exits."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from tradebot.adapters.ports import Broker
from tradebot.domain import ZERO, Order, OrderIntent, OrderType, Protection, Side, Symbol
from tradebot.errors import BrokerError, BrokerUnavailable

log = logging.getLogger(__name__)
PROTECTIVE_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP, OrderType.LIMIT})


def protective_for(orders: Iterable[Order], symbol: str, closing_side: Side,
                   exclude: frozenset[str] = frozenset()) -> list[Order]:
    """Return the working orders guarding symbol: the closing side, a stop or target type, not terminal."""
    return [o for o in orders if o.symbol == symbol and o.side is closing_side and o.order_type in PROTECTIVE_TYPES
            and not o.status.terminal and o.client_order_id not in exclude]


def cancel_protection(broker: Broker, symbol: str, closing_side: Side, now: datetime,
                      exclude: frozenset[str] = frozenset()) -> list[str]:
    """Cancel symbol's protective orders (a bracket through its parent) so an exit can use the held quantity."""
    cancelled = []
    # Each leg by its own id: a bracket's parent is the filled entry, and cancelling a filled order does nothing.
    for order in protective_for(broker.open_orders(), symbol, closing_side, exclude):
        target = order.client_order_id
        try:
            broker.cancel_order(target, now)  # type: ignore[arg-type]
            cancelled.append(target)
        except BrokerUnavailable:
            raise
        except BrokerError as exc:
            log.warning("cancel of protective %s for %s failed: %s", target, symbol, exc)
    return cancelled


def with_protection(intent: OrderIntent, stop: Decimal | None, take_profit: Decimal | None) -> OrderIntent:
    """Return intent carrying broker-side protection at stop (and take_profit) when it has a stop to carry."""
    if stop is None or stop <= ZERO:
        return intent
    return replace(intent, protection=Protection(stop, take_profit if take_profit and take_profit > ZERO else None))


def protect_entries(intents: Iterable[OrderIntent], held: Mapping[Symbol, Decimal],
                    levels: Mapping[Symbol, tuple[Decimal, Decimal | None]]) -> list[OrderIntent]:
    """Attach each entry's stop and target from levels; exits and reductions go out bare."""
    out = []
    for intent in intents:
        qty = held.get(intent.symbol, ZERO)
        opening = qty == ZERO or (qty > ZERO) == (intent.side is Side.BUY)
        level = levels.get(intent.symbol)
        out.append(with_protection(intent, *level) if opening and level else intent)
    return out
