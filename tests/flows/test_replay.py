"""A short replay through the real flows and tasks, then the ledger's invariants."""

from decimal import Decimal

from sqlalchemy import func, select

from tradebot.adapters.paper import PaperBroker
from tradebot.store.market import BarRow
from tradebot.store.trading import (
    EquitySnapshotRow,
    FillRow,
    OrderIntentRow,
    OrderRow,
    PositionRow,
    RiskDecisionRow,
    RunRow,
    SignalRow,
)


def test_replay_trades_and_reports_what_it_did(replayed):
    _, s, _ = replayed
    assert s["days"] >= 12 and s["signals"] > 0 and s["orders"] > 0 and s["fills"] > 0
    assert Decimal(s["final_equity"]) > 0
    assert set(s["verdicts"]) <= {"accepted", "resized", "rejected"}
    q = s["data_quality"]
    assert q["batches"]["bars"] >= s["days"] and q["batches"]["news"] >= s["days"] and q["quarantined"] >= 0


def test_running_twice_starts_a_new_run_and_never_duplicates_bars(replayed, sessions):
    _, a, b = replayed
    assert a["run_id"] != b["run_id"]
    assert a["final_equity"] == b["final_equity"]  # same seed, same days, same decisions
    with sessions() as s:
        total = s.scalar(select(func.count()).select_from(BarRow))
        distinct = s.scalar(select(func.count()).select_from(
            select(BarRow.symbol, BarRow.timeframe, BarRow.ts).distinct().subquery()))
        assert total == distinct
        assert s.scalar(select(func.count()).select_from(RunRow)) == 2


def test_cash_plus_positions_equals_equity_at_every_snapshot(sessions, replayed):
    with sessions() as s:
        for run_id in (replayed[1]["run_id"], replayed[2]["run_id"]):
            run = s.get(RunRow, run_id)
            snaps = s.scalars(select(EquitySnapshotRow).where(EquitySnapshotRow.run_id == run_id)).all()
            assert snaps
            fills = s.scalars(select(FillRow).where(FillRow.run_id == run_id)).all()
            for snap in snaps:
                assert snap.cash + snap.positions_value == snap.equity
                # Cash is exactly the initial cash plus every fill known by the snapshot's time.
                cash = run.initial_cash + sum((_cash_delta(f) for f in fills if f.ts <= snap.ts), Decimal(0))
                assert snap.cash == cash.quantize(Decimal("0.01"))


def test_every_fill_belongs_to_an_order_that_belongs_to_an_intent(sessions):
    with sessions() as s:
        orphans = s.scalars(select(FillRow.fill_id).outerjoin(
            OrderRow, OrderRow.client_order_id == FillRow.client_order_id).where(OrderRow.id.is_(None))).all()
        assert orphans == []
        no_intent = s.scalars(select(OrderRow.client_order_id).outerjoin(
            OrderIntentRow, OrderIntentRow.client_order_id == OrderRow.client_order_id)
            .where(OrderIntentRow.id.is_(None))).all()
        assert no_intent == []


def test_no_order_without_an_approving_risk_decision(sessions):
    with sessions() as s:
        rows = s.execute(select(OrderRow.client_order_id, OrderRow.qty, RiskDecisionRow.verdict,
                                RiskDecisionRow.approved_qty).outerjoin(
            RiskDecisionRow, RiskDecisionRow.client_order_id == OrderRow.client_order_id)).all()
        assert rows
        for cid, qty, verdict, approved in rows:
            assert verdict in ("accepted", "resized"), cid
            assert qty == approved


def test_no_position_without_fills_and_positions_match_fills(sessions):
    with sessions() as s:
        for pos in s.scalars(select(PositionRow)):
            fills = s.scalars(select(FillRow).where(FillRow.run_id == pos.run_id, FillRow.symbol == pos.symbol)).all()
            assert fills, f"position {pos.run_id}/{pos.symbol} has no fills"
            assert pos.qty == sum((f.qty if f.side == "buy" else -f.qty for f in fills), Decimal(0))


def test_the_ledger_agrees_with_the_paper_broker(sessions, replayed):
    run_id = replayed[1]["run_id"]
    broker = PaperBroker(sessions, run_id, Decimal(replayed[1]["initial_cash"]))
    with sessions() as s:
        ledger_pos = {p.symbol: p.qty for p in s.scalars(select(PositionRow).where(PositionRow.run_id == run_id))
                      if p.qty != 0}
        last = s.scalars(select(EquitySnapshotRow).where(EquitySnapshotRow.run_id == run_id)
                         .order_by(EquitySnapshotRow.ts.desc())).first()
    assert {p.symbol: p.qty for p in broker.positions()} == ledger_pos
    assert broker.cash().quantize(Decimal("0.01")) == last.cash


def test_signals_link_to_the_news_they_used(sessions):
    from tradebot.store.trading import SignalNewsRow

    with sessions() as s:
        long_signals = s.scalar(select(func.count()).select_from(SignalRow).where(SignalRow.direction == "long"))
        links = s.scalar(select(func.count()).select_from(SignalNewsRow))
        assert long_signals > 0 and links >= long_signals


def test_each_cycle_left_table_and_markdown_artifacts(replayed):
    from prefect.artifacts import Artifact

    table = Artifact.get("trade-cycle")
    summary = Artifact.get("trade-cycle-summary")
    assert table is not None and table.type == "table"
    assert summary is not None and "Trade cycle" in summary.data


def _cash_delta(f: FillRow) -> Decimal:
    signed = f.qty if f.side == "buy" else -f.qty
    return -signed * f.price - f.commission


def test_orders_fill_at_the_first_open_after_submission(sessions):
    from datetime import timedelta

    from tradebot.calendars import session_open

    with sessions() as s:
        rows = s.execute(select(FillRow.symbol, FillRow.ts, OrderRow.submitted_at).join(
            OrderRow, OrderRow.client_order_id == FillRow.client_order_id)).all()
    assert rows
    for symbol, filled, sent in rows:
        assert filled > sent
        if "/" in symbol:  # crypto: the next daily bar opens the instant the order is sent
            assert filled - sent < timedelta(seconds=1), (symbol, sent, filled)
        else:  # stocks: the next NYSE session's open
            day = sent.date()
            while session_open(day) is None or session_open(day) < sent:
                day += timedelta(days=1)
            assert filled == session_open(day), (symbol, sent, filled)


def test_every_replayed_session_has_a_bar_for_every_symbol_and_news_flows_daily(sessions, replayed):
    from datetime import UTC, datetime, time, timedelta

    from tradebot.calendars import session_open
    from tradebot.store.market import NewsItemRow

    summary = replayed[1]
    first = datetime.combine(datetime.fromisoformat(summary["first_day"]).date(), time(), UTC)
    last = datetime.combine(datetime.fromisoformat(summary["last_day"]).date(), time(), UTC)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with sessions() as s:
        for sym in summary["symbols"]:
            have = set(s.scalars(select(BarRow.ts).where(BarRow.symbol == sym, BarRow.ts >= first, BarRow.ts <= last)))
            want = {d for d in days if "/" in sym or session_open(d.date()) is not None}
            assert have == want, f"{sym}: missing {sorted(want - have)[:3]}"
        published = s.scalars(select(NewsItemRow.published_at).where(NewsItemRow.published_at >= first)).all()
    news_days = {p.date() for p in published}
    assert len(news_days) >= 0.8 * len(days)


def test_no_sell_is_sent_for_shares_the_broker_does_not_hold(sessions):
    with sessions() as s:
        bad = s.scalars(select(OrderRow.reject_reason).where(OrderRow.reject_reason.like("%short selling%"))).all()
    assert bad == []


def test_at_most_one_order_per_symbol_is_ever_working_at_once(sessions):
    with sessions() as s:
        orders = s.execute(select(OrderRow.run_id, OrderRow.symbol, OrderRow.submitted_at, OrderRow.updated_at,
                                  OrderRow.status)).all()
    for run_id, sym, sent, done, _ in orders:
        overlapping = [o for o in orders if o[0] == run_id and o[1] == sym and o[2] > sent and o[2] < done]
        assert overlapping == [], (sym, sent)
