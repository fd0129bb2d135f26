"""Domain types: frozen dataclasses and enums, no I/O."""

from tradebot.domain.enums import (
    AssetClass,
    Direction,
    EarningsHour,
    Mode,
    OrderRole,
    OrderStatus,
    OrderType,
    SentimentLabel,
    Side,
    TimeInForce,
    Verdict,
)
from tradebot.domain.ids import ClientOrderId, CycleId, RunId, Symbol, make_client_order_id, make_news_id
from tradebot.domain.market import BAR_COLUMNS, DAILY, Bar, Instrument
from tradebot.domain.news import EarningsEvent, NewsItem, SentimentScore
from tradebot.domain.trading import (
    ZERO,
    Fill,
    Order,
    OrderEvent,
    OrderIntent,
    Portfolio,
    Position,
    Protection,
    RiskDecision,
    RiskLimits,
    Signal,
)

__all__ = [
    "BAR_COLUMNS", "DAILY", "ZERO",
    "AssetClass", "Bar", "ClientOrderId", "CycleId", "Direction", "EarningsEvent", "EarningsHour",
    "Fill", "Instrument", "Mode", "NewsItem", "Order", "OrderEvent", "OrderIntent", "OrderRole", "OrderStatus",
    "OrderType",
    "Portfolio", "Position", "Protection", "RiskDecision", "RiskLimits", "RunId", "SentimentLabel", "SentimentScore",
    "Side", "Signal", "Symbol", "TimeInForce", "Verdict", "make_client_order_id", "make_news_id",
]
