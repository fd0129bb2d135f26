"""Signals, intents, risk decisions, orders, fills, positions and limits."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tradebot.domain.enums import Direction, OrderRole, OrderStatus, OrderType, Side, TimeInForce, Verdict
from tradebot.domain.ids import ClientOrderId, Symbol

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's view on one symbol at one time, with why and from what."""

    strategy: str
    symbol: Symbol
    ts: datetime
    direction: Direction
    strength: float  # in [-1, 1]; sign agrees with direction
    confidence: float  # in [0, 1]
    horizon_days: int
    reasons: tuple[str, ...] = ()
    news_ids: tuple[str, ...] = ()
    bar_ts: datetime | None = None  # the last bar the strategy looked at
    tags: tuple[str, ...] = ()  # machine-readable flags for risk, e.g. "pre_earnings"

    def __post_init__(self) -> None:
        if not -1.0 <= self.strength <= 1.0:
            raise ValueError(f"signal strength must be in [-1, 1], got {self.strength}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"signal confidence must be in [0, 1], got {self.confidence}")


@dataclass(frozen=True, slots=True)
class Protection:
    """Broker-side exit levels carried by an entry (Alpaca bracket/OTO, Binance OCO) or placed for a holding."""

    stop_price: Decimal
    take_profit: Decimal | None = None
    stop_limit_price: Decimal | None = None  # None: the stop leg is a stop-market order

    def __post_init__(self) -> None:
        if self.stop_price <= ZERO:
            raise ValueError(f"protective stop_price must be positive, got {self.stop_price}")
        if self.take_profit is not None and self.take_profit <= ZERO:
            raise ValueError(f"protective take_profit must be positive, got {self.take_profit}")


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What we want to trade before risk has had its say."""

    client_order_id: ClientOrderId
    strategy: str
    symbol: Symbol
    side: Side
    qty: Decimal
    ts: datetime
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    reference_price: Decimal | None = None  # the price sizing used
    reason: str = ""
    stop_price: Decimal | None = None  # stop and stop_limit orders
    trail_percent: Decimal | None = None  # trailing_stop orders
    protection: Protection | None = None  # broker-side stop / take profit attached to an entry
    extended_hours: bool = False

    def __post_init__(self) -> None:
        if self.qty <= ZERO:
            raise ValueError(f"intent qty must be positive, got {self.qty}")
        needs_limit = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_limit and (self.limit_price is None or self.limit_price <= ZERO):
            raise ValueError(f"a {self.order_type} intent needs a positive limit_price")
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_stop and (self.stop_price is None or self.stop_price <= ZERO):
            raise ValueError(f"a {self.order_type} intent needs a positive stop_price")
        if self.order_type is OrderType.TRAILING_STOP and (self.trail_percent is None or self.trail_percent <= ZERO):
            raise ValueError("a trailing_stop intent needs a positive trail_percent")


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The risk engine's verdict on one intent, with every reason and its numbers."""

    client_order_id: ClientOrderId
    verdict: Verdict
    requested_qty: Decimal
    approved_qty: Decimal
    reasons: tuple[str, ...]

    @property
    def approved(self) -> bool:
        """Return True when an order may go out (possibly resized)."""
        return self.verdict is not Verdict.REJECTED and self.approved_qty > ZERO


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the broker knows it."""

    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    qty: Decimal
    order_type: OrderType
    status: OrderStatus
    submitted_at: datetime
    broker_order_id: str = ""
    limit_price: Decimal | None = None
    filled_qty: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    reject_reason: str = ""
    stop_price: Decimal | None = None
    parent_client_order_id: ClientOrderId | None = None  # set on bracket/OCO legs
    updated_at: datetime | None = None  # the broker's last change to this order
    role: OrderRole = OrderRole.ENTRY  # legs say STOP / TAKE_PROFIT and carry their entry's id as parent


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One update from a broker's order stream; event_id de-duplicates redelivery."""

    event_id: str
    client_order_id: ClientOrderId
    broker_order_id: str
    status: OrderStatus
    ts: datetime
    fill: "Fill | None" = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution; commission is in commission_asset ("" means the quote currency).

    Binance charges a buy's commission in the base asset: then the holding grows by qty - commission.
    """

    fill_id: str
    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    qty: Decimal
    price: Decimal
    commission: Decimal
    ts: datetime
    commission_asset: str = ""

    @property
    def signed_qty(self) -> Decimal:
        """Return qty positive for buys, negative for sells."""
        return self.qty if self.side is Side.BUY else -self.qty

    @property
    def cash_delta(self) -> Decimal:
        """Return how this fill changes cash, commission included."""
        return -self.signed_qty * self.price - self.commission


@dataclass(frozen=True, slots=True)
class Position:
    """Net holding in one symbol."""

    symbol: Symbol
    qty: Decimal
    avg_price: Decimal

    def market_value(self, price: Decimal) -> Decimal:
        """Return the position's value at price."""
        return self.qty * price


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Cash and positions at one instant."""

    cash: Decimal
    positions: dict[Symbol, Position] = field(default_factory=dict)

    def equity(self, prices: dict[Symbol, Decimal]) -> Decimal:
        """Return cash plus positions marked at prices."""
        return self.cash + sum((p.market_value(prices[s]) for s, p in self.positions.items()), ZERO)

    def qty(self, symbol: Symbol) -> Decimal:
        """Return the held quantity of symbol (zero if none)."""
        pos = self.positions.get(symbol)
        return pos.qty if pos else ZERO


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Bounds the simple risk rule enforces."""

    max_position_weight: float = 0.15
    max_gross_exposure: float = 1.0
    max_open_positions: int = 10
    min_order_notional: Decimal = Decimal("10")
    allow_short: bool = False
