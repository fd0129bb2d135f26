"""What the sentinel reads from and writes to the ledger: open positions with their levels, tighter levels back."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from risk.stops import StopLevels
from tradebot.domain import ZERO, ClientOrderId, OrderStatus, Symbol, make_client_order_id
from tradebot.sentinel.levels import Watched, direction_of
from tradebot.store.controls import PositionStopRow
from tradebot.store.risk_state import load_stops
from tradebot.store.trading import OrderIntentRow, OrderRow, PositionRow

log = logging.getLogger(__name__)
SENTINEL = "sentinel"  # the strategy name on every order the sentinel sends
_RETRYABLE = {OrderStatus.REJECTED.value, OrderStatus.CANCELED.value, OrderStatus.EXPIRED.value}


def exit_client_order_id(account: str, levels: StopLevels, attempt: int = 0) -> ClientOrderId:
    """Return the exit's client order id: fixed by the position's entry, so no restart or reconnect doubles it.

    The trigger (stop, trail or target) is deliberately not part of it: whichever fires first owns the one exit
    of this position. attempt moves on only after a definite refusal of the previous attempt.
    """
    cycle = f"{account}|{levels.opened_at.isoformat()}|{levels.entry_price}|{levels.direction}|{attempt}"
    return make_client_order_id(SENTINEL, levels.symbol, cycle, "exit")


def exit_attempt(s: Session, account: str, levels: StopLevels) -> tuple[int, bool]:
    """Return (attempt to use, whether that attempt already exists in the ledger) for a position's exit."""
    attempt = 0
    while True:
        cid = exit_client_order_id(account, levels, attempt)
        order = s.scalar(select(OrderRow.status).where(OrderRow.client_order_id == cid))
        intent = s.scalar(select(OrderIntentRow.status).where(OrderIntentRow.client_order_id == cid))
        if order is None and intent is None:
            return attempt, False
        filled = s.scalar(select(OrderRow.filled_qty).where(OrderRow.client_order_id == cid))
        if order in _RETRYABLE and (filled or ZERO) == ZERO:
            attempt += 1  # refused for good: the next try is a new order
            continue
        return attempt, True


def load_watched(s: Session, account: str) -> list[Watched]:
    """Return the account's open positions that have stored levels, marking those whose exit is already out."""
    stops = load_stops(s, account)
    out: list[Watched] = []
    for row in s.scalars(select(PositionRow).where(PositionRow.run_id == account, PositionRow.qty != 0)):
        raw = stops.get(row.symbol)
        if raw is None:
            log.warning("%s %s: open position without stored stop levels; not watched until the next cycle sets them",
                        account, row.symbol)
            continue
        levels = StopLevels.from_dict(raw)
        if levels.direction is not direction_of(row.qty):
            continue  # levels of a position since flipped: the next cycle replaces them
        w = Watched(account, Symbol(row.symbol), Decimal(row.qty), levels)
        w.exiting = exit_attempt(s, account, levels)[1]
        out.append(w)
    return out


def write_levels(s: Session, positions: Iterable[Watched], now: datetime) -> int:
    """Store levels that ratcheted here, only where they protect more than what is stored; return rows changed."""
    changed = 0
    for p in positions:
        row = s.get(PositionStopRow, (p.account, p.symbol))
        if row is None:
            continue  # the position closed (or the cycle dropped it) meanwhile: nothing to protect
        stored = StopLevels.from_dict(row.levels)
        lv = p.levels
        if stored.direction is not lv.direction or stored.opened_at != lv.opened_at:
            continue
        tighter = lv.stop > stored.stop if lv.is_long else lv.stop < stored.stop
        if not tighter:
            continue
        anchor = max(lv.trail_anchor, stored.trail_anchor) if lv.is_long else min(lv.trail_anchor,
                                                                                   stored.trail_anchor)
        merged = {**row.levels, "stop": str(lv.stop), "trail_anchor": str(anchor)}
        row.levels, row.stop_loss, row.updated_at = merged, lv.stop, now
        changed += 1
    return changed
