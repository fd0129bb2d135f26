"""Daily limits and pauses: the session day, daily loss halt, trade count, loss-streak cooldown, kill switch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from risk.types import RiskClock, RiskPolicy, RiskState, TradeStats
from tradebot.domain import AssetClass

_NEW_YORK = ZoneInfo("America/New_York")

ExchangeDay = Callable[[datetime], date] | date | None


def session_day(now: datetime, asset_class: AssetClass, exchange_day: ExchangeDay = None) -> date:
    """Return the session now belongs to: the UTC day for crypto, the exchange's trading day for stocks."""
    if now.tzinfo is None:
        raise ValueError(f"clock must be timezone-aware, got naive {now.isoformat()}")
    if asset_class is AssetClass.CRYPTO:
        return now.astimezone(UTC).date()
    if isinstance(exchange_day, date):
        return exchange_day
    if exchange_day is not None:
        return exchange_day(now)
    # Without a calendar, the New York date is the exchange day (an overnight cycle belongs to the day it ends).
    return now.astimezone(_NEW_YORK).date()


def make_clock(now: datetime, asset_classes: Iterable[AssetClass], exchange_day: ExchangeDay = None,
               session_start_equity: Decimal | None = None) -> RiskClock:
    """Return the clock for a book: the exchange day when it holds any stocks, else the UTC day."""
    stocks = any(a is not AssetClass.CRYPTO for a in asset_classes)
    day = session_day(now, AssetClass.EQUITY if stocks else AssetClass.CRYPTO, exchange_day)
    return RiskClock(now, day, session_start_equity)


def roll_day(state: RiskState, clock: RiskClock, equity: Decimal) -> RiskState:
    """Return state for clock's session: a new session resets the count and the daily-loss halt."""
    if state.day == clock.session_day:
        if state.session_start_equity is None:
            return replace(state, session_start_equity=clock.session_start_equity or equity)
        return state
    return replace(state, day=clock.session_day, session_start_equity=clock.session_start_equity or equity,
                   trades_today=0, halted=False, halt_reason="")


def count_closed_trades(state: RiskState, stats: Mapping[str, TradeStats | Sequence[float]] | None,
                        policy: RiskPolicy, now: datetime) -> RiskState:
    """Return state with the loss streak advanced by closed trades not yet seen; a long streak starts a cooldown."""
    if not stats:
        return state
    seen = dict(state.closed_seen)
    streak, cooldown = state.consecutive_losses, state.cooldown_until
    for strategy in sorted(stats):
        returns = stats[strategy]
        if isinstance(returns, TradeStats):
            continue  # counts alone carry no order, so they cannot extend a streak
        for r in list(returns)[seen.get(strategy, 0):]:
            streak = streak + 1 if r <= 0 else 0
            if policy.max_consecutive_losses is not None and streak >= policy.max_consecutive_losses:
                cooldown = now + policy.loss_cooldown
                streak = 0  # the cooldown is the penalty; after it, a fresh streak must build up again
        seen[strategy] = len(returns)
    return replace(state, consecutive_losses=streak, cooldown_until=cooldown, closed_seen=seen)


def check_daily_loss(state: RiskState, equity: Decimal, policy: RiskPolicy) -> RiskState:
    """Return state halted when equity has fallen more than the daily limit since the session start."""
    start = state.session_start_equity
    if state.halted or policy.max_daily_loss is None or not start or start <= 0:
        return state
    change = float(equity / start - 1)
    if change > -policy.max_daily_loss:
        return state
    reason = (f"daily loss {change:+.2%} <= -{policy.max_daily_loss:.2%} limit (equity {equity:.2f} vs "
              f"session start {start:.2f} on {state.day}); new entries halted for the session")
    return replace(state, halted=True, halt_reason=reason)


def entry_block(state: RiskState, now: datetime) -> str | None:
    """Return why no new entry may be opened now, or None when entries are allowed."""
    if state.kill_switch:
        why = f" ({state.kill_reason})" if state.kill_reason else ""
        return f"kill switch on{why}: no new orders except protective exits"
    if state.halted:
        return state.halt_reason or "trading halted for the session"
    if state.cooldown_until is not None and now < state.cooldown_until:
        return f"cooling down after consecutive losses until {state.cooldown_until.isoformat()}"
    return None
