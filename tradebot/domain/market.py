"""Market data: instruments and bars."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradebot.domain.enums import AssetClass
from tradebot.domain.ids import Symbol

# The one column layout every bar DataFrame uses (ts is tz-aware UTC, prices float64).
BAR_COLUMNS: tuple[str, ...] = ("symbol", "timeframe", "ts", "open", "high", "low", "close", "volume")

DAILY = "1Day"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable symbol and the rules for sizing orders in it."""

    symbol: Symbol
    asset_class: AssetClass
    name: str
    exchange: str
    min_qty: Decimal = Decimal("1")
    qty_step: Decimal = Decimal("1")

    @property
    def is_crypto(self) -> bool:
        """Return True for 24/7 crypto instruments."""
        return self.asset_class is AssetClass.CRYPTO


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ts is the bar's open time in UTC."""

    symbol: Symbol
    timeframe: str
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"bar ts must be timezone-aware UTC, got naive {self.ts.isoformat()}")
