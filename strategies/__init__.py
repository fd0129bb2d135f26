"""Pure strategies over domain types and DataFrames: no clock reads, queries or network."""

from strategies.base import MarketSnapshot, Strategy
from strategies.registry import available, create, register

__all__ = ["MarketSnapshot", "Strategy", "available", "create", "register"]
