"""Trading tasks: signals, risk, exactly-once submission, broker sync and marking to market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from risk import Proposal, decide
from strategies.base import MarketSnapshot
from strategies.processor import targets_from_signals
from tasks.common import compute_task, io_task
from tasks.runtime import Runtime
from tradebot.adapters.paper import Quote, to_price
from tradebot.calendars import daily_open_time
from tradebot.domain import ZERO, ClientOrderId, Portfolio, Position, Side, Signal, Symbol
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.marketdata import read_bars, read_earnings, read_sentiment
from tradebot.store.trading import FillRow, OrderRow

BAR_LOOKBACK = timedelta(days=120)
NEWS_LOOKBACK = timedelta(days=7)
EARNINGS_WINDOW = timedelta(days=45)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class CycleResult:
    """What one trade cycle produced, for artifacts and summaries."""

    signals: list[Signal]
    proposals: list[Proposal]
    submitted: int


def latest_closes(rt: Runtime, now: datetime) -> dict[Symbol, Decimal]:
    """Return each symbol's last completed close at now, as an exact price."""
    with rt.sessions() as s:
        bars = read_bars(s, rt.symbols, rt.settings.data.timeframe, now - BAR_LOOKBACK, now - DAY)
    last = bars.groupby("symbol").tail(1)
    return {Symbol(r.symbol): to_price(r.close) for r in last.itertuples()}


@compute_task(name="compute-signals")
def compute_signals(rt: Runtime, now: datetime, cycle_id: str) -> tuple[list[Signal], dict[tuple[str, str], int]]:
    """Build the snapshot visible at now, run the strategy, and record its signals."""
    with rt.sessions() as s:
        # A daily bar stamped d is complete only at d + 1 day: never show a strategy an open bar.
        bars = read_bars(s, rt.symbols, rt.settings.data.timeframe, now - BAR_LOOKBACK, now - DAY)
        sentiment = read_sentiment(s, rt.symbols, rt.analyzer.model_version, now - NEWS_LOOKBACK, now)
        earnings = read_earnings(s, rt.symbols, (now - EARNINGS_WINDOW).date(), (now + EARNINGS_WINDOW).date())
        pf = ledger.portfolio(s, rt.run_id)
    snap = MarketSnapshot(now=now, bars=bars, sentiment=sentiment, instruments=rt.instruments,
                          positions=pf.positions, earnings=earnings)
    signals = [sig for strategy in rt.strategies for sig in strategy.signals(snap)]
    with transaction(rt.sessions) as s:
        ids = ledger.record_signals(s, rt.run_id, cycle_id, signals)
    return signals, ids


@compute_task(name="check-risk")
def check_risk(rt: Runtime, signals: list[Signal], signal_ids: dict[tuple[str, str], int], now: datetime,
               cycle_id: str) -> list[Proposal]:
    """Size targets into intents, judge each, and record intents with their decisions before any order."""
    prices = latest_closes(rt, now)
    with rt.sessions() as s:
        pf = _with_open_orders(s, ledger.portfolio(s, rt.run_id), rt.run_id)
    targets = targets_from_signals(signals, weight_per_unit=rt.settings.signals.weight_per_unit)
    proposals = decide(targets, pf, prices, rt.instruments, rt.settings.risk.limits(), cycle_id, now)
    with transaction(rt.sessions) as s:
        for p in proposals:
            sig_id = signal_ids.get((p.target.strategy, p.target.symbol))
            ledger.record_proposal(s, rt.run_id, cycle_id, p.intent, p.decision, sig_id, now)
    return proposals


def _with_open_orders(s, pf: Portfolio, run_id: str) -> Portfolio:  # type: ignore[no-untyped-def]
    """Count working orders as if filled, so a cycle never re-orders what is already on its way."""
    rows = s.execute(select(OrderRow.symbol, OrderRow.side, OrderRow.qty, OrderRow.client_order_id)
                     .where(OrderRow.client_order_id.in_(ledger.open_orders(s, run_id)))).all()
    if not rows:
        return pf
    positions = dict(pf.positions)
    cash = pf.cash
    from tradebot.store.trading import OrderIntentRow

    for sym, side, qty, coid in rows:
        ref = s.scalar(select(OrderIntentRow.reference_price).where(OrderIntentRow.client_order_id == coid)) or ZERO
        signed = qty if side == Side.BUY.value else -qty
        cur = positions.get(Symbol(sym), Position(Symbol(sym), ZERO, ref))
        positions[Symbol(sym)] = Position(cur.symbol, cur.qty + signed, cur.avg_price or ref)
        cash -= signed * ref
    return Portfolio(cash=cash, positions={k: v for k, v in positions.items() if v.qty != ZERO})


@io_task(name="submit-orders")
def submit_orders(rt: Runtime, now: datetime) -> int:
    """Send every approved, unsent intent exactly once: look up by client id first, then submit."""
    with rt.sessions() as s:
        intents = ledger.pending_intents(s, rt.run_id)
    sent = 0
    for intent in intents:
        # The intent row is already committed; a retry after a crash finds the order by its id.
        order = rt.broker.get_order(intent.client_order_id) or rt.broker.submit_order(intent, now)
        with transaction(rt.sessions) as s:
            ledger.upsert_order(s, rt.run_id, rt.broker.name, order, now)
            ledger.mark_intent_sent(s, intent.client_order_id)
        sent += 1
    return sent


@compute_task(name="fill-paper-orders")
def fill_paper_orders(rt: Runtime, start: datetime, end: datetime) -> int:
    """Let the paper broker match working orders against the first stored bar in [start, end)."""
    with rt.sessions() as s:
        bars = read_bars(s, rt.symbols, rt.settings.data.timeframe, start, end - timedelta(microseconds=1))
    first = bars.groupby("symbol").head(1)
    daily = rt.settings.data.timeframe == "1Day"
    quotes = {}
    for r in first.itertuples():
        ts = r.ts.to_pydatetime()
        # A daily stock bar is labelled midnight UTC but its open trades at the session open.
        opened = daily_open_time(rt.instruments[Symbol(r.symbol)].asset_class, ts) if daily else ts
        quotes[str(r.symbol)] = Quote(opened, to_price(r.open), to_price(r.high), to_price(r.low))
    return len(rt.broker.on_quotes(quotes))


@io_task(name="sync-broker")
def sync_broker(rt: Runtime, now: datetime) -> int:
    """Pull order states and new fills from the broker into the ledger; rebuild positions."""
    with rt.sessions() as s:
        open_ids = ledger.open_orders(s, rt.run_id)
        last = s.scalar(select(func.max(FillRow.ts)).where(FillRow.run_id == rt.run_id))
    orders = [o for o in (rt.broker.get_order(ClientOrderId(cid)) for cid in open_ids) if o is not None]
    # Re-read the last instant too: fills sharing a timestamp must not be skipped; fill ids de-duplicate.
    fills = rt.broker.fills_since(last - timedelta(microseconds=1) if last else None)
    with transaction(rt.sessions) as s:
        for o in orders:
            ledger.upsert_order(s, rt.run_id, rt.broker.name, o, now)
        new = ledger.record_fills(s, rt.run_id, list(fills))
        ledger.rebuild_positions(s, rt.run_id, now)
    return new


@compute_task(name="mark-to-market")
def mark_to_market(rt: Runtime, now: datetime) -> dict[str, str]:
    """Snapshot cash, position value and equity at now using the last completed closes."""
    marks = latest_closes(rt, now)
    with transaction(rt.sessions) as s:
        snap = ledger.snapshot_equity(s, rt.run_id, now, marks)
    return {"cash": str(snap.cash), "positions_value": str(snap.positions_value), "equity": str(snap.equity)}
