"""Score a chaos run: compare every intent in the ledger with what the fake venues actually hold."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tradebot.domain import ZERO, OrderStatus


def venue_truth(venue: str, raw: Mapping[str, Any]) -> tuple[OrderStatus, Decimal]:
    """Return (status, filled qty) of a venue's order JSON, mapped as the adapters map it."""
    if venue == "alpaca":
        from tradebot.adapters.alpaca_orders import order_status

        return order_status(str(raw["status"])), Decimal(str(raw.get("filled_qty") or "0"))
    from tradebot.adapters.binance_orders import STATUS

    return STATUS[str(raw["status"])], Decimal(str(raw["executedQty"]))


def score(sessions: Any, run_id: str, venues: Mapping[str, Any],
          created: Mapping[str, Mapping[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Return duplicates, lost and drift counts with up to 20 examples of each problem."""
    from bench.chaos_worker import venue_of
    from tradebot.store.trading import FillRow, OrderIntentRow, OrderRow

    problems: dict[str, list[str]] = {"duplicates": [], "lost": [], "drift": []}
    with sessions() as s:
        intents = s.execute(select(OrderIntentRow.client_order_id, OrderIntentRow.symbol, OrderIntentRow.status)
                            .where(OrderIntentRow.run_id == run_id, OrderIntentRow.strategy == "chaos")).all()
        rows = {r.client_order_id: r for r in s.scalars(select(OrderRow).where(OrderRow.run_id == run_id))}
        filled: dict[str, Decimal] = {}
        for cid, qty in s.execute(select(FillRow.client_order_id, FillRow.qty).where(FillRow.run_id == run_id)):
            filled[cid] = filled.get(cid, ZERO) + qty
        net: dict[tuple[str, str], Decimal] = {}
        for broker, sym, side, qty in s.execute(
                select(OrderRow.broker, FillRow.symbol, FillRow.side, FillRow.qty)
                .join(OrderRow, OrderRow.client_order_id == FillRow.client_order_id)
                .where(FillRow.run_id == run_id)):
            net[(broker, sym)] = net.get((broker, sym), ZERO) + (qty if side == "buy" else -qty)
    rejected = 0
    for cid, symbol, intent_status in intents:
        venue = venue_of(symbol)
        placed = created[venue].get(cid, [])
        elsewhere = [v for v in created if v != venue and created[v].get(cid)]
        if len(placed) > 1 or elsewhere:
            problems["duplicates"].append(f"{cid} placed {len(placed)}x at {venue}, also at {elsewhere}")
        row = rows.get(cid)
        if not placed:
            if row is None or row.status != OrderStatus.REJECTED.value:
                problems["lost"].append(f"{cid} ({symbol}): no {venue} order, ledger "
                                        f"{row.status if row else 'none'}, intent {intent_status}")
            else:
                rejected += 1
            continue
        if row is None:
            problems["lost"].append(f"{cid} ({symbol}): {venue} has it, the ledger has no order (intent "
                                    f"{intent_status})")
            continue
        status, qty = venue_truth(venue, placed[0])
        if row.status != status.value or row.filled_qty != qty or filled.get(cid, ZERO) != qty:
            problems["drift"].append(f"{cid} ({symbol}): ledger {row.status} filled {row.filled_qty} fills "
                                     f"{filled.get(cid, ZERO)}, {venue} {status.value} filled {qty}")
    for name, broker in venues.items():
        theirs = {p.symbol: p.qty for p in broker.positions()}
        mine = {sym: q for (b, sym), q in net.items() if b == name and q != ZERO}
        for sym in sorted(set(theirs) | set(mine)):
            if theirs.get(sym, ZERO) != mine.get(sym, ZERO):
                problems["drift"].append(f"position {sym} at {name}: ledger {mine.get(sym, ZERO)}, "
                                         f"venue {theirs.get(sym, ZERO)}")
    return {"duplicates": len(problems["duplicates"]), "lost": len(problems["lost"]),
            "drift": len(problems["drift"]), "rejected_recorded": rejected,
            "examples": {k: v[:20] for k, v in problems.items() if v}}
