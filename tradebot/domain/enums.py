"""Enumerations shared across the domain: sides, statuses, verdicts, modes."""

from enum import StrEnum


class AssetClass(StrEnum):
    """What kind of instrument a symbol is; decides calendar and sizing rules."""

    EQUITY = "us_equity"
    CRYPTO = "crypto"


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order types the brokers accept."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    """How long an order stays working."""

    DAY = "day"
    GTC = "gtc"


class OrderRole(StrEnum):
    """Why the bot placed an order; legs and replacement stops link to their entry by parent id."""

    ENTRY = "entry"
    EXIT = "exit"  # a reducing order from risk, the sentinel or a manual flatten
    STOP = "stop"  # a protective stop leg (bracket/OTO/OCO leg or a standalone protective stop)
    TAKE_PROFIT = "take_profit"  # a protective target leg


class OrderStatus(StrEnum):
    """Lifecycle of an order; terminal statuses never move back."""

    PENDING = "pending"  # intent written, not yet sent
    SUBMITTING = "submitting"  # intent committed, network call under way (or crashed in it)
    SUBMITTED = "submitted"  # accepted by the broker, working
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        """Return True when no further transition is allowed."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class Direction(StrEnum):
    """Which way a signal points."""

    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class SentimentLabel(StrEnum):
    """Three-way sentiment label."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


class Verdict(StrEnum):
    """What the risk engine did with an intent."""

    ACCEPTED = "accepted"
    RESIZED = "resized"
    REJECTED = "rejected"


class Mode(StrEnum):
    """Run mode: which broker and feeds a deployment uses."""

    PAPER = "paper"
    ALPACA_PAPER = "alpaca-paper"
    LIVE = "live"


class EarningsHour(StrEnum):
    """When an earnings report is released relative to the session."""

    BEFORE_OPEN = "bmo"
    AFTER_CLOSE = "amc"
    DURING = "dmh"
    UNKNOWN = "unknown"
