"""Prefect artifacts for a trade cycle: a table (signals -> decisions -> orders) and a markdown summary."""

from __future__ import annotations

from collections.abc import Sequence

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from risk import Proposal
from tasks.common import io_task
from tradebot.domain import Signal


def cycle_rows(signals: Sequence[Signal], proposals: Sequence[Proposal]) -> list[dict[str, str]]:
    """Return one row per signal, joined to the intent and verdict it led to (if any)."""
    by_symbol = {p.intent.symbol: p for p in proposals}
    rows = []
    for sig in signals:
        p = by_symbol.get(sig.symbol)
        rows.append({
            "symbol": sig.symbol, "strategy": sig.strategy, "direction": sig.direction.value,
            "strength": f"{sig.strength:+.2f}", "confidence": f"{sig.confidence:.2f}",
            "intent": f"{p.intent.side.value} {p.intent.qty}" if p else "-",
            "verdict": p.decision.verdict.value if p else "-",
            "approved_qty": str(p.decision.approved_qty) if p else "-",
            "client_order_id": p.intent.client_order_id if p else "-",
            "reasons": "; ".join((*sig.reasons, *(p.decision.reasons if p else ()))),
        })
    return rows


@io_task(name="publish-cycle-artifacts", retries=1)
def publish_cycle_artifacts(cycle_id: str, signals: list[Signal], proposals: list[Proposal],
                            equity: dict[str, str], fills: int) -> None:
    """Write the cycle's table and summary artifacts to the Prefect API."""
    rows = cycle_rows(signals, proposals)
    create_table_artifact(key="trade-cycle", table=rows or [{"symbol": "-", "note": "no signals"}],
                          description=f"Signals, risk decisions and orders of cycle {cycle_id}")
    verdicts = {v: sum(1 for p in proposals if p.decision.verdict.value == v)
                for v in ("accepted", "resized", "rejected")}
    md = (f"# Trade cycle `{cycle_id}`\n\n"
          f"| | |\n|---|---|\n| signals | {len(signals)} |\n| intents | {len(proposals)} |\n"
          f"| accepted / resized / rejected | {verdicts['accepted']} / {verdicts['resized']} / "
          f"{verdicts['rejected']} |\n| fills this cycle | {fills} |\n| cash | {equity['cash']} |\n"
          f"| positions value | {equity['positions_value']} |\n| equity | {equity['equity']} |\n")
    create_markdown_artifact(key="trade-cycle-summary", markdown=md, description=f"Summary of {cycle_id}")
