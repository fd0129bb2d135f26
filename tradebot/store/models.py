"""Every ledger table, imported in one place so Alembic and tests see the whole schema."""

from tradebot.store.backtest import BacktestMetricRow, BacktestTradeRow
from tradebot.store.base import Base
from tradebot.store.controls import PositionStopRow, RiskStateRow, TradingControlRow
from tradebot.store.execution import OrderEventRow, OrderSubmissionRow
from tradebot.store.market import (
    BarRow,
    EarningsEventRow,
    InstrumentRow,
    NewsItemRow,
    NewsSymbolRow,
    SentimentScoreRow,
)
from tradebot.store.ops import AlertRow, AuditRow, DataQualityRow, FlowRunLinkRow, QuarantineRow
from tradebot.store.paper import PaperAccountRow, PaperFillRow, PaperOrderRow, PaperPositionRow
from tradebot.store.trading import (
    DailyPnlRow,
    EquitySnapshotRow,
    FillRow,
    OrderIntentRow,
    OrderRow,
    PositionRow,
    RiskDecisionRow,
    RunRow,
    SignalNewsRow,
    SignalRow,
)
from tradebot.store.users import LoginAttemptRow, RiskOverrideRow, UserRow

metadata = Base.metadata

__all__ = [
    "AlertRow", "AuditRow", "BarRow", "Base", "DailyPnlRow", "DataQualityRow", "EarningsEventRow",
    "EquitySnapshotRow", "FillRow", "FlowRunLinkRow", "InstrumentRow", "NewsItemRow", "NewsSymbolRow",
    "OrderIntentRow", "OrderRow", "PaperAccountRow", "PaperFillRow", "PaperOrderRow", "PaperPositionRow",
    "PositionRow", "PositionStopRow", "QuarantineRow", "RiskDecisionRow", "RiskStateRow", "RunRow",
    "SentimentScoreRow", "SignalNewsRow", "SignalRow", "TradingControlRow", "metadata",
    "OrderEventRow", "OrderSubmissionRow",
    "LoginAttemptRow", "RiskOverrideRow", "UserRow",
    "BacktestMetricRow", "BacktestTradeRow",
]
