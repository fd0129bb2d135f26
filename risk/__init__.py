"""Pure risk rules: sizing, stops, correlation, daily limits and verdicts with their reasons. No I/O, no clock reads."""

from risk.engine import decide, evaluate
from risk.limits import make_clock, session_day
from risk.sizing import TradeStats, kelly
from risk.stops import StopLevels
from risk.types import MarketData, Proposal, RiskClock, RiskPolicy, RiskResult, RiskState

__all__ = [
    "MarketData", "Proposal", "RiskClock", "RiskPolicy", "RiskResult", "RiskState", "StopLevels", "TradeStats",
    "decide", "evaluate", "kelly", "make_clock", "session_day",
]
