"""Daily PnL and the end-of-replay summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tasks.runtime import Runtime
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.marketdata import read_bars
from tradebot.store.trading import FillRow, OrderIntentRow, OrderRow, RiskDecisionRow, SignalRow


def record_day(rt: Runtime, day: date, prev_equity: Decimal, result: dict) -> Decimal:
    """Store the day's PnL from the cycle's equity; return the equity to carry forward."""
    equity = Decimal(result["equity"])
    with transaction(rt.sessions) as s:
        ledger.record_daily_pnl(s, rt.run_id, day, prev_equity, equity)
    return equity


def replay_summary(rt: Runtime, days: list[date]) -> dict:
    """Summarize a run: counts, final equity, PnL, and equal-weight buy-and-hold on the same days."""
    start = datetime.combine(days[0], time(), UTC)
    end = datetime.combine(days[-1], time(), UTC) + timedelta(days=1)
    initial = rt.settings.paper.initial_cash
    with rt.sessions() as s:
        count = lambda q: int(s.scalar(q) or 0)  # noqa: E731
        signals = count(select(func.count()).select_from(SignalRow).where(SignalRow.run_id == rt.run_id))
        intents = count(select(func.count()).select_from(OrderIntentRow).where(OrderIntentRow.run_id == rt.run_id))
        verdicts = dict(s.execute(
            select(RiskDecisionRow.verdict, func.count()).join(
                OrderIntentRow, OrderIntentRow.client_order_id == RiskDecisionRow.client_order_id)
            .where(OrderIntentRow.run_id == rt.run_id).group_by(RiskDecisionRow.verdict)).all())
        by_strategy = dict(s.execute(select(SignalRow.strategy, func.count()).where(SignalRow.run_id == rt.run_id)
                                     .group_by(SignalRow.strategy)).all())
        examples = _examples(s, rt.run_id)
        orders = count(select(func.count()).select_from(OrderRow).where(OrderRow.run_id == rt.run_id))
        fills = count(select(func.count()).select_from(FillRow).where(FillRow.run_id == rt.run_id))
        pf = ledger.portfolio(s, rt.run_id)
        bars = read_bars(s, rt.symbols, rt.settings.data.timeframe, start - timedelta(days=7), end - timedelta(days=1))
    equity_row = _last_equity(rt)
    quality = _quality(rt)
    first_close = bars[bars["ts"] < start].groupby("symbol")["close"].last()
    last_close = bars.groupby("symbol")["close"].last()
    growth = (last_close / first_close).dropna()
    bh = initial * Decimal(str(round(float(growth.mean()), 10))) if len(growth) else initial
    return {
        "run_id": rt.run_id, "days": len(days), "first_day": days[0].isoformat(), "last_day": days[-1].isoformat(),
        "symbols": rt.symbols, "signals": signals, "intents": intents, "verdicts": verdicts, "orders": orders,
        "fills": fills, "open_positions": len(pf.positions), "initial_cash": str(initial),
        "final_equity": str(equity_row), "pnl": str(equity_row - initial),
        "buy_and_hold_equity": str(bh.quantize(Decimal("0.01"))), "ledger": rt.settings.ledger_url,
        "data_quality": quality, "signals_by_strategy": by_strategy, "examples": examples,
    }


def _examples(s, run_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Return the latest resized and rejected intent of the run with its risk reasons, for people to read."""
    out = {}
    for verdict in ("resized", "rejected"):
        row = s.execute(select(OrderIntentRow.symbol, OrderIntentRow.side, RiskDecisionRow.requested_qty,
                               RiskDecisionRow.approved_qty, RiskDecisionRow.reasons)
                        .join(RiskDecisionRow, RiskDecisionRow.client_order_id == OrderIntentRow.client_order_id)
                        .where(OrderIntentRow.run_id == run_id, RiskDecisionRow.verdict == verdict)
                        .order_by(OrderIntentRow.id.desc()).limit(1)).first()
        if row is not None:
            sym, side, req, ok, reasons = row
            out[verdict] = f"{side} {req} {sym} -> {ok}: {(reasons or ['-'])[-1]}"
    return out


def _quality(rt: Runtime) -> dict:
    """Count this run's gate batches, checked rows, quarantined rows and failures by expectation."""
    from tradebot.store.ops import DataQualityRow, QuarantineRow

    like = f"%-{rt.run_id}-%"
    with rt.sessions() as s:
        batches = s.execute(select(DataQualityRow.kind, func.count(func.distinct(DataQualityRow.batch)))
                            .where(DataQualityRow.batch.like(like)).group_by(DataQualityRow.kind)).all()
        failed = s.execute(select(DataQualityRow.expectation, func.sum(DataQualityRow.unexpected_count))
                           .where(DataQualityRow.batch.like(like), DataQualityRow.success.is_(False))
                           .group_by(DataQualityRow.expectation)).all()
        quarantined = s.scalar(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.batch.like(like)))
    return {"batches": {k: int(n) for k, n in batches}, "quarantined": int(quarantined or 0),
            "failed": {e: int(n or 0) for e, n in failed}}


def _last_equity(rt: Runtime) -> Decimal:
    from tradebot.store.trading import EquitySnapshotRow

    with rt.sessions() as s:
        row = s.scalars(select(EquitySnapshotRow).where(EquitySnapshotRow.run_id == rt.run_id)
                        .order_by(EquitySnapshotRow.ts.desc()).limit(1)).first()
    return row.equity if row else rt.settings.paper.initial_cash
