"""Batch-level bar checks: freshness per symbol and complete sessions against the exchange calendar."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import pandas as pd

from tradebot.domain.market import DAILY
from tradebot.quality.outcome import ExpectationOutcome

CRYPTO_SUFFIXES = ("USDT", "USDC", "USD")
MAX_LISTED = 10  # dates / symbols listed in a details string before "... +N more"


def freshness_outcome(good: pd.DataFrame, symbols: list[str], now: datetime,
                      staleness: timedelta) -> ExpectationOutcome:
    """Check each symbol's newest good bar is within max_staleness of now."""
    cutoff = pd.Timestamp(now) - staleness
    newest = good.groupby("symbol")["ts"].max() if len(good) else pd.Series(dtype=object)
    stale = [(s, newest.get(s)) for s in symbols if s not in newest.index or newest[s] < cutoff]
    listed = ", ".join(f"{s} newest {'none' if t is None else t.isoformat()}" for s, t in stale[:MAX_LISTED])
    more = f" ... +{len(stale) - MAX_LISTED} more" if len(stale) > MAX_LISTED else ""
    return ExpectationOutcome(
        expectation="bars_fresh", column="ts", success=not stale, unexpected_count=len(stale),
        element_count=len(symbols),
        details=f"cutoff {cutoff.isoformat()}" + (f"; stale: {listed}{more}" if stale else ""),
    )


def is_crypto_symbol(symbol: str) -> bool:
    """Return True for symbols that trade every calendar day (pairs like BTC/USD or BTCUSDT)."""
    return "/" in symbol or symbol.upper().endswith(CRYPTO_SUFFIXES)


@lru_cache(maxsize=1)
def _nyse() -> Any:
    import exchange_calendars  # ~1.5 s import; only daily equity batches pay for it

    with warnings.catch_warnings():
        # exchange_calendars 4.13 trips a pandas 3.1 deprecation (Series.values on tz-aware data)
        # while building the calendar; harmless for us and otherwise repeated in every log.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return exchange_calendars.get_calendar("XNYS", start="1990-01-01")


def sessions_outcome(good: pd.DataFrame, last_stored: pd.DataFrame | None) -> ExpectationOutcome | None:
    """Check daily bars cover every NYSE session (equities) or every calendar day (crypto)."""
    daily = good[good["timeframe"] == DAILY]
    if daily.empty:
        return None
    # Daily bars are stamped anywhere from 00:00 to 05:00 UTC (or at the 21:00 UTC close); the UTC
    # date is the session date for all of these US conventions.
    dates = daily["ts"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    stored: dict[str, pd.Timestamp] = {}
    if last_stored is not None and len(last_stored):
        ls = last_stored[(last_stored["timeframe"] == DAILY) & last_stored["ts"].notna()]
        if len(ls):
            ls_dates = ls["ts"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
            stored = ls_dates.groupby(ls["symbol"]).max().to_dict()
    expected_total, missing_total, parts = 0, 0, []
    for symbol, present in dates.groupby(daily["symbol"]):
        have = pd.DatetimeIndex(present.unique())
        start, end = have.min(), have.max()
        # Bridge the gap from the newest stored bar, but do not re-audit old history every run.
        before = stored.get(symbol)
        if before is not None and before < start:
            start = before
            have = have.append(pd.DatetimeIndex([before]))
        note = ""
        if is_crypto_symbol(str(symbol)):
            expected = pd.date_range(start, end, freq="D")
        else:
            cal = _nyse()
            lo, hi = max(start, cal.first_session), min(end, cal.last_session)
            if (lo, hi) != (start, end):
                note = f" (calendar covers {cal.first_session.date()}..{cal.last_session.date()} only)"
            expected = cal.sessions_in_range(lo, hi) if lo <= hi else pd.DatetimeIndex([])
        gaps = pd.DatetimeIndex(expected).difference(have)
        expected_total += len(expected)
        missing_total += len(gaps)
        if len(gaps) or note:
            shown = ", ".join(str(d.date()) for d in gaps[:MAX_LISTED])
            more = f" ... +{len(gaps) - MAX_LISTED} more" if len(gaps) > MAX_LISTED else ""
            parts.append(f"{symbol}: {len(gaps)} missing [{shown}{more}]{note}")
    return ExpectationOutcome(
        expectation="sessions_complete", column="ts", success=missing_total == 0,
        unexpected_count=missing_total, element_count=expected_total,
        details="; ".join(parts) or "every session present",
    )
