"""When an order may go out: stocks while NYSE is open (or in extended hours when allowed), crypto always."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tradebot.calendars import nyse, session_open
from tradebot.domain import AssetClass, OrderIntent

NEW_YORK = ZoneInfo("America/New_York")
PRE_MARKET_OPEN = time(4, 0)
AFTER_HOURS_CLOSE = time(20, 0)
CRYPTO_SUFFIXES = ("USDT", "USDC", "BUSD", "FDUSD")


class Session(StrEnum):
    """Which part of the trading day an instant falls in for US stocks."""

    REGULAR = "regular"
    PRE_MARKET = "pre_market"
    AFTER_HOURS = "after_hours"
    CLOSED = "closed"


def guess_asset_class(symbol: str) -> AssetClass:
    """Return crypto for pair-like symbols (BTC/USD, BTCUSDT), equity otherwise."""
    return AssetClass.CRYPTO if "/" in symbol or symbol.upper().endswith(CRYPTO_SUFFIXES) else AssetClass.EQUITY


def asset_class_of(symbol: str, known: Mapping[str, AssetClass] | None = None) -> AssetClass:
    """Return the asset class the ledger knows for symbol, else a guess from its spelling."""
    if known and symbol in known:
        return known[symbol]
    return guess_asset_class(symbol)


def stock_session(now: datetime) -> Session:
    """Return the NYSE session at now (holidays and early closes included)."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()} refused: pass a timezone-aware time")
    local = now.astimezone(NEW_YORK)
    day = local.date()
    opened = session_open(day)
    if opened is None:
        return Session.CLOSED
    closed = nyse().session_close(day.isoformat()).to_pydatetime()
    if opened <= now < closed:
        return Session.REGULAR
    pre = datetime.combine(day, PRE_MARKET_OPEN, NEW_YORK)
    post = datetime.combine(day, AFTER_HOURS_CLOSE, NEW_YORK)
    if pre <= now < opened:
        return Session.PRE_MARKET
    if closed <= now < post:
        return Session.AFTER_HOURS
    return Session.CLOSED


def next_open(now: datetime) -> datetime | None:
    """Return the next NYSE regular open after now (None if none within two weeks)."""
    day = now.astimezone(NEW_YORK).date()
    for i in range(15):
        opened = session_open(day + timedelta(days=i))
        if opened is not None and opened > now:
            return opened
    return None


def closed_reason(intent: OrderIntent, asset_class: AssetClass, now: datetime, extended_hours: bool) -> str:
    """Return why intent may not go out at now, or "" when its market is open for it."""
    if asset_class is AssetClass.CRYPTO:
        return ""
    session = stock_session(now)
    if session is Session.REGULAR:
        return ""
    if session is not Session.CLOSED and extended_hours and intent.extended_hours:
        return ""
    opens = next_open(now)
    when = f"; it opens {opens.isoformat()}" if opens else ""
    if session is Session.CLOSED:
        why = "NYSE is closed"
    elif not extended_hours:
        why = f"NYSE is in its {session.value.replace('_', '-')} session and execution.extended_hours is off"
    else:
        why = f"NYSE is in its {session.value.replace('_', '-')} session and the order does not ask for extended hours"
    return f"market closed: {why} at {now.isoformat()}{when}"
