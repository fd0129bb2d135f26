"""Market calendars: when a daily bar's prices actually traded."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from tradebot.domain import AssetClass


@lru_cache(maxsize=1)
def nyse() -> Any:
    """Return the NYSE calendar (built once per process)."""
    import warnings

    import exchange_calendars as xc

    # exchange_calendars 4.13 trips a pandas 3.1 deprecation inside its constructor; nothing of ours.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Series.values.*", category=Warning)
        return xc.get_calendar("XNYS")


def session_open(day: date) -> datetime | None:
    """Return the NYSE open of day in UTC, or None when the exchange is closed that day."""
    cal = nyse()
    label = day.isoformat()
    if not cal.is_session(label):
        return None
    return cal.session_open(label).to_pydatetime()


def daily_open_time(asset_class: AssetClass, bar_ts: datetime) -> datetime:
    """Return when a daily bar stamped bar_ts opened: the NYSE open for stocks, midnight UTC for crypto."""
    if asset_class is AssetClass.CRYPTO:
        return bar_ts
    return session_open(bar_ts.date()) or bar_ts
