"""Data-quality gate: validate bars and news before they are stored; bad rows go to quarantine.

Great Expectations is imported lazily by the first bar validation (it costs seconds to import).
"""

from tradebot.quality.bars import validate_bars
from tradebot.quality.news import validate_news
from tradebot.quality.outcome import ExpectationOutcome, GateOutcome

__all__ = ["ExpectationOutcome", "GateOutcome", "validate_bars", "validate_news"]
