"""ScriptedBroker: an in-process venue (the paper broker's books) whose order calls misbehave on a script.

For unit tests of the exactly-once logic where a network fake would only add seconds; the HTTP fakes
(FakeAlpacaTradingServer, FakeBinanceSpotServer) cover the same faults through the real client libraries.

Script steps for submit_order, consumed in order (then every call behaves):
    "ok"                 place the order normally
    "accept_then_lost"   place it, then raise BrokerUnavailable (the reply never arrived)
    "unavailable"        raise BrokerUnavailable without placing anything
    "duplicate_check"    refuse with DuplicateClientOrderId if the id is known, else place it
    "refuse"             raise a plain BrokerError (a definite refusal sent as an error)
Script steps for get_order: "ok", "unavailable", "miss" (answers "no such order" even if there is one,
as an eventually consistent read might).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from tradebot.adapters.paper import PaperBroker
from tradebot.domain import ClientOrderId, Fill, Order, OrderIntent, Position, Protection, Symbol
from tradebot.errors import BrokerError, BrokerUnavailable, DuplicateClientOrderId


class ScriptedBroker:
    """Broker protocol over a PaperBroker, with scripted faults and call counters."""

    def __init__(self, inner: PaperBroker, submits: Sequence[str] = (), lookups: Sequence[str] = (),
                 name: str = "scripted") -> None:
        self.inner, self.name = inner, name
        self.submit_script, self.lookup_script = list(submits), list(lookups)
        self.calls: Counter[str] = Counter()
        self.log: list[str] = []  # "submit" / "lookup" in call order
        self.placed: Counter[str] = Counter()  # orders actually created per client id

    def submit_order(self, intent: OrderIntent, now: datetime) -> Order:
        """Place (or fail to answer for) intent according to the script."""
        self.calls["submit"] += 1
        self.log.append("submit")
        step = self.submit_script.pop(0) if self.submit_script else "ok"
        known = self.inner.get_order(intent.client_order_id) is not None
        if step == "unavailable":
            raise BrokerUnavailable("scripted: connection dropped before the request was sent")
        if step == "refuse":
            raise BrokerError("scripted: account is restricted from trading")
        if step == "duplicate_check" and known:
            raise DuplicateClientOrderId(f"scripted: client order id {intent.client_order_id} must be unique")
        order = self.inner.submit_order(intent, now)
        if not known:
            self.placed[intent.client_order_id] += 1
        if step == "accept_then_lost":
            raise BrokerUnavailable("scripted: request timed out after it was accepted")
        return order

    def get_order(self, client_order_id: ClientOrderId) -> Order | None:
        """Look up an order, or fail according to the script."""
        self.calls["lookup"] += 1
        self.log.append("lookup")
        step = self.lookup_script.pop(0) if self.lookup_script else "ok"
        if step == "unavailable":
            raise BrokerUnavailable("scripted: lookup timed out")
        if step == "miss":
            return None
        return self.inner.get_order(client_order_id)

    def cancel_order(self, client_order_id: ClientOrderId, now: datetime) -> Order:
        """Cancel through the inner broker."""
        return self.inner.cancel_order(client_order_id, now)

    def open_orders(self) -> Sequence[Order]:
        """Return the inner broker's working orders."""
        return self.inner.open_orders()

    def protect(self, symbol: Symbol, qty: Decimal, protection: Protection, client_order_id: ClientOrderId,
                now: datetime) -> Order:
        """Protect through the inner broker."""
        return self.inner.protect(symbol, qty, protection, client_order_id, now)

    def fills_since(self, since: datetime | None) -> Sequence[Fill]:
        """Return the inner broker's fills."""
        return self.inner.fills_since(since)

    def positions(self) -> Sequence[Position]:
        """Return the inner broker's positions."""
        return self.inner.positions()

    def cash(self) -> Decimal:
        """Return the inner broker's cash."""
        return self.inner.cash()
