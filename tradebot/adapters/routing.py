"""RoutingBroker: stocks to one venue, crypto to another, behind the one Broker port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from tradebot.adapters.ports import Broker
from tradebot.domain import ClientOrderId, Fill, Order, OrderIntent, Position, Protection, Symbol


def is_crypto(symbol: str) -> bool:
    """Return True for a crypto pair such as BTC/USD (our symbols spell pairs with a slash)."""
    return "/" in symbol


class RoutingBroker:
    """Send equity orders to `equities` and crypto orders to `crypto`; reads merge both venues.

    Client order ids do not say which venue holds them, so `symbol_of` (backed by the ledger's intent
    rows) names the symbol; an id the ledger does not know is looked for on both venues.
    Cash is the sum of both accounts' settled cash (USD and its stablecoin counted at par).
    """

    def __init__(self, equities: Broker, crypto: Broker,
                 symbol_of: Callable[[ClientOrderId], str | None]) -> None:
        self.equities, self.crypto, self._symbol_of = equities, crypto, symbol_of
        self.name = f"{equities.name}+{crypto.name}"

    def _venue(self, symbol: str) -> Broker:
        return self.crypto if is_crypto(symbol) else self.equities

    def _venues_for(self, cid: ClientOrderId) -> tuple[Broker, ...]:
        symbol = self._symbol_of(cid)
        return (self._venue(symbol),) if symbol else (self.equities, self.crypto)

    def submit_order(self, intent: OrderIntent, now: datetime) -> Order:
        """Place intent on the venue for its symbol."""
        return self._venue(intent.symbol).submit_order(intent, now)

    def get_order(self, client_order_id: ClientOrderId) -> Order | None:
        """Look the order up on its venue (both when the ledger does not know the id)."""
        for venue in self._venues_for(client_order_id):
            order = venue.get_order(client_order_id)
            if order is not None:
                return order
        return None

    def cancel_order(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel on the venue holding the order."""
        venues = self._venues_for(client_order_id)
        for venue in venues[:-1]:
            if venue.get_order(client_order_id) is not None:
                return venue.cancel_order(client_order_id, now)
        return venues[-1].cancel_order(client_order_id, now)

    def open_orders(self) -> Sequence[Order]:
        """Return working orders on both venues."""
        return [*self.equities.open_orders(), *self.crypto.open_orders()]

    def protect(self, symbol: Symbol, qty: Decimal, protection: Protection, client_order_id: ClientOrderId,
                now: datetime) -> Order:
        """Place protective exits on the venue holding symbol."""
        return self._venue(symbol).protect(symbol, qty, protection, client_order_id, now)

    def fills_since(self, since: datetime | None) -> Sequence[Fill]:
        """Return both venues' executions after since, oldest first."""
        return sorted([*self.equities.fills_since(since), *self.crypto.fills_since(since)], key=lambda f: f.ts)

    def positions(self) -> Sequence[Position]:
        """Return open positions on both venues."""
        return [*self.equities.positions(), *self.crypto.positions()]

    def cash(self) -> Decimal:
        """Return both accounts' cash added up."""
        return self.equities.cash() + self.crypto.cash()
