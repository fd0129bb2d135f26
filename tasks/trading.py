"""Trading tasks: signals, risk, exactly-once submission, broker sync and marking to market."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select

from risk import MarketData, RiskClock, RiskPolicy, RiskResult, RiskState, StopLevels, evaluate, make_clock
from strategies.base import MarketSnapshot
from strategies.processor import targets_from_signals
from tasks.alerting import risk_alerts
from tasks.common import compute_task, io_task
from tasks.runtime import Runtime
from tradebot.adapters.paper import PaperBroker, Quote, to_price
from tradebot.calendars import daily_open_time, session_open
from tradebot.commands import trading_status
from tradebot.domain import ZERO, AssetClass, ClientOrderId, Order, OrderStatus, Side, Signal, Symbol
from tradebot.execution.protection import cancel_protection, protect_entries
from tradebot.store import ledger
from tradebot.store.db import transaction
from tradebot.store.marketdata import read_bars, read_earnings, read_sentiment
from tradebot.store.ops import QuarantineRow
from tradebot.store.risk_state import (
    closed_trade_returns,
    load_risk_state,
    load_stops,
    position_owners,
    save_risk_state,
    save_stops,
)
from tradebot.store.trading import EquitySnapshotRow, FillRow, OrderRow

BAR_LOOKBACK = timedelta(days=120)
NEWS_LOOKBACK = timedelta(days=7)
EARNINGS_WINDOW = timedelta(days=45)
DAY = timedelta(days=1)


def latest_closes(rt: Runtime, now: datetime) -> dict[Symbol, Decimal]:
    """Return each symbol's last completed close at now, as an exact price."""
    with rt.sessions() as s:
        return closes_of(read_bars(s, rt.symbols, rt.settings.data.timeframe, now - BAR_LOOKBACK, now - DAY))


def closes_of(bars: pd.DataFrame) -> dict[Symbol, Decimal]:
    """Return each symbol's last close in a bar frame sorted by symbol and ts, as an exact price."""
    return {Symbol(r.symbol): to_price(r.close) for r in bars.groupby("symbol").tail(1).itertuples()}


@compute_task(name="compute-signals")
def compute_signals(rt: Runtime, now: datetime, cycle_id: str) -> tuple[list[Signal], dict[tuple[str, str], int]]:
    """Build the snapshot visible at now, run the strategy, and record its signals."""
    with rt.sessions() as s:
        # A daily bar stamped d is complete only at d + 1 day: never show a strategy an open bar.
        bars = read_bars(s, rt.symbols, rt.settings.data.timeframe, now - BAR_LOOKBACK, now - DAY)
        sentiment = read_sentiment(s, rt.symbols, rt.analyzer.model_version, now - NEWS_LOOKBACK, now)
        earnings = read_earnings(s, rt.symbols, (now - EARNINGS_WINDOW).date(), (now + EARNINGS_WINDOW).date())
        pf = ledger.portfolio(s, rt.run_id)
        owners = position_owners(s, rt.run_id)
    snap = MarketSnapshot.at(now, bars, sentiment, rt.instruments, pf.positions, earnings,
                             {Symbol(k): v for k, v in owners.items()})
    signals = [sig for strategy in rt.strategies for sig in strategy.signals(snap)]
    with transaction(rt.sessions) as s:
        ids = ledger.record_signals(s, rt.run_id, cycle_id, signals)
    return signals, ids


@compute_task(name="check-risk")
def check_risk(rt: Runtime, signals: list[Signal], signal_ids: dict[tuple[str, str], int], now: datetime,
               cycle_id: str, since: datetime | None = None) -> tuple[RiskResult, list]:
    """Judge targets and stops, record every intent with its decision, the new stops and state at once.

    Returns the result and the alerts it calls for (stops hit, a daily limit newly halting entries).
    """
    with rt.sessions() as s:
        pf = ledger.portfolio(s, rt.run_id)
        working = _working_orders(s, rt.run_id)
        bars = read_bars(s, rt.symbols, rt.settings.data.timeframe, now - BAR_LOOKBACK, now - DAY)
        state = before = RiskState.from_dict(load_risk_state(s, rt.run_id) or {})
        stops = {Symbol(k): StopLevels.from_dict(v) for k, v in load_stops(s, rt.run_id).items()}
        stats = closed_trade_returns(s, rt.run_id)
        # Symbols whose bars the gate quarantined in this cycle's window get no new entries this cycle.
        blocked = set(s.scalars(select(QuarantineRow.symbol).where(
            QuarantineRow.kind == "bars", QuarantineRow.quarantined_at > (since or now - DAY),
            QuarantineRow.quarantined_at <= now, QuarantineRow.symbol.is_not(None)).distinct()))
    if rt.kind != "replay":
        # The kill switch governs real trading; a replay is a simulation of what the rules would have done.
        switch = trading_status(rt.sessions)
        state = replace(state, kill_switch=switch.paused, kill_reason=switch.reason)
    prices = closes_of(bars)
    cfg = rt.settings
    equity = pf.equity({**{k: p.avg_price for k, p in pf.positions.items()}, **prices})
    held = {k: float(p.qty * prices.get(k, p.avg_price) / equity) for k, p in pf.positions.items()} if equity else {}
    # Risk owns the pre-earnings cut (risk.earnings_scale), so the processor must not cut a second time.
    targets = targets_from_signals(signals, weight_per_unit=cfg.signals.weight_per_unit,
                                   weights=rt.strategy_weights, pre_earnings_scale=1.0, current_weights=held)
    policy = RiskPolicy(limits=cfg.risk.limits(), **cfg.risk.policy_kwargs())  # type: ignore[arg-type]
    clock = _risk_clock(rt, now)
    # One order in flight per symbol: while one works, that symbol gets no new intent (it is judged
    # again once the order fills or dies), and open buys keep their cash reserved.
    reserved = sum((qty * ref for side, qty, ref in working.values() if side == Side.BUY.value), ZERO)
    # Reductions toward a smaller exposure still pass for blocked symbols; only growth is held back.
    targets = [t for t in targets if t.symbol not in working
               and (t.symbol not in blocked or abs(t.weight) <= abs(held.get(t.symbol, 0.0)))]
    result = evaluate(targets, pf, MarketData.from_bars(bars), policy,
                      state, clock, cycle_id, instruments=rt.instruments, strategy_stats=stats, stops=stops,
                      prices=prices, pending_buy_notional=reserved)
    if working:
        result = replace(result, exits=[p for p in result.exits if p.intent.symbol not in working])
    if not isinstance(rt.broker, PaperBroker):
        # A real venue holds each entry's stop itself (bracket/OTO on Alpaca, OCO on Binance), so it stands
        # while our processes are down; the simulated paper broker leaves stops to the risk engine.
        levels = {sym: (lv.stop, lv.take_profit) for sym, lv in result.stops.items()}
        held = {sym: pos.qty for sym, pos in pf.positions.items()}
        protected = protect_entries([p.intent for p in result.proposals], held, levels)
        result = replace(result, proposals=[replace(p, intent=i) for p, i in zip(result.proposals, protected,
                                                                                   strict=True)])
    with transaction(rt.sessions) as s:
        for p in result.all_proposals:
            sig_id = signal_ids.get((p.target.strategy, p.target.symbol))
            ledger.record_proposal(s, rt.run_id, cycle_id, p.intent, p.decision, sig_id, now)
        # Same transaction as the proposals: trades_today counts them, so both land or neither does.
        save_risk_state(s, rt.run_id, result.state.to_dict(), now)
        save_stops(s, rt.run_id, {sym: lv.to_dict() for sym, lv in result.stops.items()}, now)
    return result, risk_alerts(before, result, stops, prices)


def _risk_clock(rt: Runtime, now: datetime) -> RiskClock:
    """Return the risk clock, with the session's start equity: the last snapshot before the session opened."""
    classes = {i.asset_class for i in rt.instruments.values()}
    day = make_clock(now, classes).session_day
    crypto_only = all(c is AssetClass.CRYPTO for c in classes)
    midnight = datetime.combine(day, time(), UTC)
    opened = midnight if crypto_only else session_open(day) or midnight
    with rt.sessions() as s:
        # With one cycle a day, "the first cycle of the session" is this one: its own equity would make
        # the day's loss zero. The equity the session started from was recorded before it opened.
        start = s.scalar(select(EquitySnapshotRow.equity).where(EquitySnapshotRow.run_id == rt.run_id,
                                                                EquitySnapshotRow.ts <= opened)
                         .order_by(EquitySnapshotRow.ts.desc()).limit(1))
    return make_clock(now, classes, session_start_equity=start)


def _working_orders(s, run_id: str) -> dict[Symbol, tuple[str, Decimal, Decimal]]:  # type: ignore[no-untyped-def]
    """Return (side, qty, reference price) of each symbol's order still working at the broker."""
    from tradebot.store.trading import OrderIntentRow

    rows = s.execute(select(OrderRow.symbol, OrderRow.side, OrderRow.qty, OrderIntentRow.reference_price)
                     .join(OrderIntentRow, OrderIntentRow.client_order_id == OrderRow.client_order_id)
                     .where(OrderRow.client_order_id.in_(ledger.open_orders(s, run_id)))).all()
    return {Symbol(sym): (side, qty, ref or ZERO) for sym, side, qty, ref in rows}


@io_task(name="submit-orders")
def submit_orders(rt: Runtime, now: datetime) -> tuple[int, list[Order]]:
    """Send every approved, unsent intent exactly once through the submitter; return sent and rejected."""
    from tradebot.errors import BrokerUnavailable
    from tradebot.execution.submitter import submit_intent
    from tradebot.prefect_events import order_unknown

    with rt.sessions() as s:
        intents = ledger.pending_intents(s, rt.run_id)
    sent = 0
    rejected: list[Order] = []
    paper = isinstance(rt.broker, PaperBroker)
    held = {} if paper else {p.symbol: p.qty for p in rt.broker.positions()}
    for intent in intents:
        try:
            qty = held.get(intent.symbol, ZERO)
            if qty != ZERO and (qty > ZERO) != (intent.side is Side.BUY):
                # The venue reserves a held quantity for its working stop: the protection goes before the exit.
                cancel_protection(rt.broker, intent.symbol, intent.side, now)
            order = submit_intent(rt.sessions, rt.run_id, rt.broker, intent, now, config=rt.settings.execution)
        except BrokerUnavailable as exc:
            # Still `submitting`: the next sync_broker (or reconcile_positions, which this event starts) resolves it.
            order_unknown(intent.client_order_id, intent.symbol, rt.run_id, str(exc))
            continue
        sent += 1
        if order.status is OrderStatus.REJECTED:
            rejected.append(order)
    return sent, rejected


@compute_task(name="fill-paper-orders")
def fill_paper_orders(rt: Runtime, start: datetime, end: datetime) -> int:
    """Let the paper broker match working orders against the first stored bar in [start, end)."""
    if not isinstance(rt.broker, PaperBroker):
        return 0  # a real broker fills on its own; sync_broker reads what it did
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
def sync_broker(rt: Runtime, now: datetime) -> tuple[int, list[Order]]:
    """Resolve intents a crash left submitting, pull order states and new fills, rebuild positions.

    Returns the new fills and the rejections seen.
    """
    from tradebot.execution.submitter import recover_submitting

    recovered = recover_submitting(rt.sessions, rt.run_id, rt.broker, now, config=rt.settings.execution)
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
    return new, [o for o in [*recovered, *orders] if o.status is OrderStatus.REJECTED]


@compute_task(name="mark-to-market")
def mark_to_market(rt: Runtime, now: datetime) -> dict[str, str]:
    """Snapshot cash, position value and equity at now using the last completed closes."""
    marks = latest_closes(rt, now)
    with transaction(rt.sessions) as s:
        snap = ledger.snapshot_equity(s, rt.run_id, now, marks)
    return {"cash": str(snap.cash), "positions_value": str(snap.positions_value), "equity": str(snap.equity)}
