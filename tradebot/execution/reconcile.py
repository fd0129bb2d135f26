"""Reconciliation's pure half: compare the ledger with the broker and name every difference as a typed drift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tradebot.domain import ZERO, Fill, Order, Position


class DriftKind(StrEnum):
    """What kind of difference reconciliation found."""

    UNKNOWN_POSITION = "unknown_position"  # the broker holds a symbol the ledger does not
    POSITION_MISMATCH = "position_mismatch"  # both know the symbol but the quantities differ
    MISSING_ORDER = "missing_order"  # the ledger has a working order the broker does not know
    UNKNOWN_ORDER = "unknown_order"  # the broker has a working order the ledger does not know
    ORDER_STATUS = "order_status"  # the ledger's status or filled quantity lags the broker's
    MISSING_FILL = "missing_fill"  # the broker reports an execution the ledger lacks


@dataclass(frozen=True)
class Drift:
    """One difference between the ledger and the broker."""

    kind: DriftKind
    symbol: str
    client_order_id: str = ""
    ledger_qty: Decimal = ZERO
    broker_qty: Decimal = ZERO
    detail: str = ""
    ref: str = ""  # the broker's id of what differs (a fill id for missing fills)


@dataclass(frozen=True)
class LedgerView:
    """The ledger's side at one broker: working orders, the fill ids it holds, net positions from fills."""

    open_orders: Mapping[str, Order]
    fill_ids: frozenset[str]
    positions: Mapping[str, Decimal]
    filled: Mapping[str, Decimal] = field(default_factory=dict)  # ledger fill qty per order the broker's fills touch


@dataclass(frozen=True)
class BrokerView:
    """The broker's side: working orders, lookups of the ledger's other working orders, recent fills, positions."""

    open_orders: Sequence[Order]
    fills: Sequence[Fill]
    positions: Sequence[Position]
    lookups: Mapping[str, Order | None] = field(default_factory=dict)


def orders_to_look_up(ledger: LedgerView, broker_open: Sequence[Order]) -> list[str]:
    """Return the ledger's working orders the broker does not list as working (their fate needs a lookup)."""
    listed = {o.client_order_id for o in broker_open}
    return sorted(cid for cid in ledger.open_orders if cid not in listed)


def diff_orders(ledger: LedgerView, broker: BrokerView) -> list[Drift]:
    """Return order and fill drift: lagging statuses, missing or unknown orders, fills the ledger lacks."""
    items: list[Drift] = []
    at_broker: dict[str, Order] = {o.client_order_id: o for o in broker.open_orders}
    at_broker.update({cid: o for cid, o in broker.lookups.items() if o is not None})
    for cid, mine in sorted(ledger.open_orders.items()):
        theirs = at_broker.get(cid)
        if theirs is None:
            if cid in broker.lookups:  # looked up and not found (a failed lookup leaves no entry)
                items.append(Drift(DriftKind.MISSING_ORDER, mine.symbol, cid, mine.filled_qty, ZERO,
                                   f"ledger has {mine.status.value} order, broker has no order with this id"))
            continue
        if theirs.status is not mine.status or theirs.filled_qty != mine.filled_qty:
            items.append(Drift(DriftKind.ORDER_STATUS, mine.symbol, cid, mine.filled_qty, theirs.filled_qty,
                               f"ledger {mine.status.value} filled {mine.filled_qty}, broker {theirs.status.value} "
                               f"filled {theirs.filled_qty}"))
    for o in broker.open_orders:
        if o.client_order_id not in ledger.open_orders:
            items.append(Drift(DriftKind.UNKNOWN_ORDER, o.symbol, o.client_order_id, ZERO, o.qty,
                               f"broker has working {o.side.value} {o.qty} {o.symbol} ({o.status.value}) "
                               "the ledger does not list as working"))
    items.extend(_missing_fills(ledger, broker.fills))
    return items


def _missing_fills(ledger: LedgerView, fills: Sequence[Fill]) -> list[Drift]:
    """Return broker fills the ledger lacks, judged per order by quantity as well as by fill id.

    A venue may name one execution differently on its stream and its REST history (Alpaca: execution_id
    vs the activity id): a fill whose id is new is only missing while the ledger's fills for that order
    add up to less than the broker's, so the same execution is never booked twice under two names.
    """
    by_order: dict[str, list[Fill]] = {}
    for f in fills:
        by_order.setdefault(f.client_order_id, []).append(f)
    items: list[Drift] = []
    for cid, theirs in by_order.items():
        short = sum((f.qty for f in theirs), ZERO) - ledger.filled.get(cid, ZERO)
        for f in sorted(theirs, key=lambda f: (f.ts, f.fill_id)):
            if short <= ZERO:
                break
            if f.fill_id in ledger.fill_ids:
                continue
            items.append(Drift(DriftKind.MISSING_FILL, f.symbol, cid, ZERO, f.qty,
                               f"broker fill {f.fill_id}: {f.side.value} {f.qty} @ {f.price}", f.fill_id))
            short -= f.qty
    return items


def diff_positions(ledger: Mapping[str, Decimal], broker: Sequence[Position]) -> list[Drift]:
    """Return position drift: symbols only the broker holds, and quantities that differ."""
    theirs: dict[str, Decimal] = {p.symbol: p.qty for p in broker if p.qty != ZERO}
    items: list[Drift] = []
    for sym in sorted(set(theirs) | {s for s, q in ledger.items() if q != ZERO}):
        mine, other = ledger.get(sym, ZERO), theirs.get(sym, ZERO)
        if mine == other:
            continue
        kind = DriftKind.UNKNOWN_POSITION if mine == ZERO else DriftKind.POSITION_MISMATCH
        items.append(Drift(kind, sym, "", mine, other, f"ledger holds {mine}, broker reports {other}"))
    return items
