"""News items, their sentiment scores, and earnings events."""

from dataclasses import dataclass
from datetime import date, datetime

from tradebot.domain.enums import EarningsHour, SentimentLabel
from tradebot.domain.ids import Symbol


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One article; it may be used only at or after published_at."""

    id: str
    source: str
    headline: str
    summary: str
    url: str
    symbols: tuple[Symbol, ...]
    published_at: datetime
    ingested_at: datetime


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """A model's reading of one news item."""

    news_id: str
    compound: float
    label: SentimentLabel
    model_version: str


@dataclass(frozen=True, slots=True)
class EarningsEvent:
    """A scheduled or reported earnings announcement."""

    symbol: Symbol
    date: date
    hour: EarningsHour
    eps_estimate: float | None
    eps_actual: float | None
    revenue_estimate: float | None = None
    revenue_actual: float | None = None
    quarter: int | None = None
    year: int | None = None

    @property
    def surprise(self) -> float | None:
        """Return the relative EPS surprise, or None until both numbers are known."""
        if self.eps_actual is None or self.eps_estimate is None or self.eps_estimate == 0:
            return None
        return (self.eps_actual - self.eps_estimate) / abs(self.eps_estimate)
