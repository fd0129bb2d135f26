"""Ports: the small protocols every outside system is reached through."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from tradebot.domain import ClientOrderId, Fill, NewsItem, Order, OrderEvent, OrderIntent, Position, Protection, Symbol

if TYPE_CHECKING:
    import pandas as pd


class Broker(Protocol):
    """Where orders go.

    submit_order is idempotent on intent.client_order_id: submitting an id the broker already
    knows returns that order instead of placing another. A call whose outcome is unknown (timeout,
    5xx, dropped connection) raises tradebot.errors.BrokerUnavailable; a definite refusal comes
    back as an Order with status REJECTED and the broker's message in reject_reason.
    """

    name: str

    def submit_order(self, intent: OrderIntent, now: datetime) -> Order:
        """Place the order for intent (or return the one already placed under its id)."""
        ...

    def get_order(self, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by our client order id."""
        ...

    def cancel_order(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel a working order and return once the venue confirms it (or the order is terminal).

        Venues cancel asynchronously (Alpaca answers pending_cancel first): the adapter waits for the
        terminal status; an order that filled meanwhile comes back FILLED, never reported as canceled.
        """
        ...

    def open_orders(self) -> Sequence[Order]:
        """Return every working order, protective legs included (role STOP/TAKE_PROFIT, parent = entry id)."""
        ...

    def protect(self, symbol: Symbol, qty: Decimal, protection: Protection, client_order_id: ClientOrderId,
                now: datetime) -> Order:
        """Place broker-side protective exit order(s) for a held position; idempotent on client_order_id."""
        ...

    def fills_since(self, since: datetime | None) -> Sequence[Fill]:
        """Return executions after since (all when None), oldest first."""
        ...

    def positions(self) -> Sequence[Position]:
        """Return open positions."""
        ...

    def cash(self) -> Decimal:
        """Return settled cash."""
        ...


class OrderEventStream(Protocol):
    """A broker's push channel of order and fill updates (Alpaca trade_updates, Binance user data)."""

    def order_events(self) -> AsyncIterator[OrderEvent]:
        """Yield updates as they arrive; may redeliver or reorder, consumers de-duplicate by event_id."""
        ...


class PriceFeed(Protocol):
    """Where bars come from."""

    name: str

    def request_bars(self, symbols: Sequence[str], start: datetime, end: datetime) -> "pd.DataFrame":
        """Return BAR_COLUMNS bars with start <= ts < end."""
        ...


class NewsFeed(Protocol):
    """Where news comes from."""

    name: str

    def request_news(self, symbols: Sequence[str], start: datetime, end: datetime) -> Sequence[NewsItem]:
        """Return items about symbols published in [start, end)."""
        ...
