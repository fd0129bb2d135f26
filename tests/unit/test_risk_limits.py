"""Daily limits: session day, daily loss halt (and flatten), trades per day, loss cooldown, kill switch, earnings."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from risk import MarketData, RiskClock, RiskPolicy, RiskState, evaluate, make_clock, session_day
from strategies.processor import Target
from tradebot.domain import AssetClass, Direction, Instrument, Portfolio, Position, Side, Signal, Symbol, Verdict

NOW = datetime(2026, 3, 2, 21, tzinfo=UTC)
SYMS = [Symbol(s) for s in ("AAA", "BBB", "CCC", "DDD")]
INSTR = {s: Instrument(s, AssetClass.EQUITY, s, "X") for s in SYMS}
PLAIN = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, stop_atr=None, max_daily_loss=0.03)


def tgt(sym: str, w: float = 0.1, tags: tuple[str, ...] = ()) -> Target:
    return Target(Symbol(sym), w, (Signal("t", Symbol(sym), NOW, Direction.LONG, 1.0, 1.0, 3, tags=tags),))


def run(targets, state=RiskState(), pf=None, prices=None, policy=PLAIN, clock=None, **kw):
    pf = pf or Portfolio(Decimal("100000"))
    prices = prices or dict.fromkeys(SYMS, Decimal("100"))
    return evaluate(targets, pf, MarketData.empty(), policy, state, clock or RiskClock(NOW, NOW.date()), "c",
                    instruments=INSTR, prices=prices, **kw)


@pytest.mark.parametrize(("now", "asset", "exchange_day", "expect"), [
    (datetime(2026, 3, 3, 1, tzinfo=UTC), AssetClass.CRYPTO, None, date(2026, 3, 3)),  # UTC day
    (datetime(2026, 3, 3, 1, tzinfo=UTC), AssetClass.EQUITY, None, date(2026, 3, 2)),  # still Monday in New York
    (datetime(2026, 3, 3, 1, tzinfo=UTC), AssetClass.EQUITY, date(2026, 3, 3), date(2026, 3, 3)),  # precomputed
    (datetime(2026, 3, 7, 15, tzinfo=UTC), AssetClass.EQUITY, lambda now: date(2026, 3, 6), date(2026, 3, 6)),
])
def test_the_session_day_is_utc_for_crypto_and_the_exchange_day_for_stocks(now, asset, exchange_day, expect):
    assert session_day(now, asset, exchange_day) == expect


def test_a_book_with_any_stock_uses_the_exchange_day_and_a_naive_clock_is_refused():
    late = datetime(2026, 3, 3, 1, tzinfo=UTC)
    assert make_clock(late, [AssetClass.CRYPTO]).session_day == date(2026, 3, 3)
    assert make_clock(late, [AssetClass.CRYPTO, AssetClass.EQUITY]).session_day == date(2026, 3, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        session_day(datetime(2026, 3, 3), AssetClass.CRYPTO)


def test_a_new_session_records_start_equity_and_resets_count_and_halt_but_not_the_kill_switch():
    old = RiskState(day=date(2026, 3, 1), session_start_equity=Decimal(1), trades_today=9, halted=True,
                    halt_reason="x", kill_switch=True)
    st = run([], old).state
    assert (st.day, st.session_start_equity, st.trades_today, st.halted, st.kill_switch) == \
        (NOW.date(), Decimal("100000"), 0, False, True)
    given = run([], RiskState(), clock=RiskClock(NOW, NOW.date(), Decimal("120000"))).state
    assert given.session_start_equity == Decimal("120000")


def _loss_state() -> RiskState:
    return RiskState(day=NOW.date(), session_start_equity=Decimal("100000"))


def test_a_daily_loss_beyond_the_limit_halts_entries_but_lets_exits_through():
    held = Portfolio(Decimal("50000"), {SYMS[1]: Position(SYMS[1], Decimal("500"), Decimal("100"))})
    prices = {**dict.fromkeys(SYMS, Decimal("100")), SYMS[1]: Decimal("93")}  # equity 96500: -3.5%
    res = run([tgt("AAA"), tgt("BBB", 0.0)], _loss_state(), held, prices)
    assert res.state.halted and res.state.halt_reason.startswith("daily loss -3.50% <= -3.00% limit")
    verdicts = {p.intent.symbol: p.decision.verdict for p in res.proposals}
    assert verdicts == {SYMS[1]: Verdict.ACCEPTED, SYMS[0]: Verdict.REJECTED}
    assert res.exits == []


def test_flatten_on_daily_loss_emits_protective_exits_for_every_position():
    policy = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, flatten_on_daily_loss=True)
    held = Portfolio(Decimal("50000"), {SYMS[1]: Position(SYMS[1], Decimal("500"), Decimal("100"))})
    prices = {**dict.fromkeys(SYMS, Decimal("100")), SYMS[1]: Decimal("93")}
    res = run([], _loss_state(), held, prices, policy)
    [ex] = res.exits
    assert ex.intent.side is Side.SELL and ex.intent.qty == 500 and ex.decision.reasons[0].startswith("flatten")


def test_max_trades_per_day_counts_across_cycles():
    policy = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, max_trades_per_day=3)
    first = run([tgt(s, 0.05) for s in SYMS[:2]], RiskState(), policy=policy)
    assert first.state.trades_today == 2
    second = run([tgt(s, 0.05) for s in SYMS[2:]], first.state, policy=policy)
    assert [p.decision.verdict for p in second.proposals] == [Verdict.ACCEPTED, Verdict.REJECTED]
    assert "max trades per day 3 reached" in second.proposals[1].decision.reasons[0]


def test_consecutive_losses_start_a_cooldown_that_expires():
    stats = {"a": [0.01, -0.01, -0.02], "b": [-0.01]}
    res = run([tgt("AAA")], RiskState(), policy=PLAIN, strategy_stats=stats)
    assert res.state.cooldown_until == NOW + timedelta(hours=24) and res.state.closed_seen == {"a": 3, "b": 1}
    assert res.proposals[0].decision.reasons[0].startswith("cooling down after consecutive losses until")
    same = run([tgt("AAA")], res.state, strategy_stats=stats)  # the same trades are not counted twice
    assert same.state.consecutive_losses == 0 and not same.proposals[0].decision.approved
    later = run([tgt("AAA")], res.state, clock=RiskClock(NOW + timedelta(hours=25), NOW.date()),
                strategy_stats={**stats, "a": [*stats["a"], 0.03]})
    assert later.proposals[0].decision.approved and later.state.consecutive_losses == 0


def test_the_kill_switch_blocks_entries_and_strategy_exits_with_its_reason():
    held = Portfolio(Decimal("90000"), {SYMS[1]: Position(SYMS[1], Decimal("100"), Decimal("100"))})
    res = run([tgt("AAA"), tgt("BBB", 0.0)], RiskState(kill_switch=True, kill_reason="ops: broker outage"), held)
    assert all(not p.decision.approved for p in res.proposals)
    assert res.proposals[0].decision.reasons[0].startswith("kill switch on (ops: broker outage): no new orders")


def test_pre_earnings_cuts_entries_and_existing_exposure_by_the_scale():
    policy = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, earnings_scale=0.5)
    [p] = run([tgt("AAA", 0.15, tags=("pre_earnings",))], policy=policy).proposals
    assert p.decision.approved_qty == 75 and "pre-earnings: allowance and position cap scaled by 0.50" in \
        p.decision.reasons
    held = Portfolio(Decimal("85000"), {SYMS[1]: Position(SYMS[1], Decimal("150"), Decimal("100"))})
    res = run([], pf=held, policy=policy, earnings_flags=frozenset({SYMS[1]}))
    [cut] = res.exits
    assert cut.intent.side is Side.SELL and cut.intent.qty == 75 and "cut 75 of 150" in cut.decision.reasons[0]


def test_risk_state_round_trips_through_json():
    st = RiskState(date(2026, 3, 2), Decimal("100000.25"), 3, 1, True, "daily loss", True, "ops",
                   NOW + timedelta(hours=3), {"news": 4})
    assert RiskState.from_dict(json.loads(json.dumps(st.to_dict()))) == st
    assert RiskState.from_dict({}) == RiskState()


def test_replay_into_a_daily_loss_stops_entries_within_one_cycle_and_across_a_restart():
    """Drive a book through cycles, persisting the state as JSON between them, as the pipeline does."""
    policy = RiskPolicy(kelly_fraction=None, vol_target=None, corr_lookback=None, stop_atr=None, max_daily_loss=0.02,
                        max_trades_per_day=None)
    cash, qty = Decimal("100000"), dict.fromkeys(SYMS, Decimal(0))
    path = [100, 100, 97, 94, 95, 99]  # the book loses more than 2% on cycle 3 and partly recovers later
    persisted = RiskState().to_dict()
    entries_by_cycle = []
    for i, px in enumerate(path):
        state = RiskState.from_dict(json.loads(json.dumps(persisted)))  # a restart between every cycle
        prices = dict.fromkeys(SYMS, Decimal(px))
        pf = Portfolio(cash, {s: Position(s, q, Decimal(100)) for s, q in qty.items() if q})
        res = evaluate([tgt(SYMS[i % 4], 0.2)], pf, MarketData.empty(), policy, state,
                       RiskClock(NOW + timedelta(minutes=i), NOW.date()), f"c{i}", instruments=INSTR, prices=prices)
        approved = [p for p in res.proposals if p.decision.approved]
        for p in approved:  # paper fills at the reference price
            qty[p.intent.symbol] += p.decision.approved_qty
            cash -= p.decision.approved_qty * p.intent.reference_price
        entries_by_cycle.append(len(approved))
        persisted = res.state.to_dict()
        if i == 3:
            assert res.state.halted
    assert entries_by_cycle == [1, 1, 1, 0, 0, 0]  # cycle 3 sees -2.4% and blocks at once; it stays blocked
    nxt = evaluate([tgt("AAA", 0.2)], Portfolio(Decimal("100000")), MarketData.empty(), policy,
                   RiskState.from_dict(persisted), RiskClock(NOW + timedelta(days=1), NOW.date() + timedelta(days=1)),
                   "next-day", instruments=INSTR, prices=dict.fromkeys(SYMS, Decimal(99)))
    assert not nxt.state.halted and nxt.proposals[0].decision.approved  # a new session lifts the daily halt


def test_stops_and_market_history_need_no_target_to_evaluate():
    idx = pd.date_range("2026-01-01", periods=30, freq="D")
    close = pd.DataFrame({"AAA": np.full(30, 100.0)}, index=idx)
    res = evaluate([], Portfolio(Decimal(100)), MarketData(close, close + 1, close - 1), RiskPolicy(), RiskState(),
                   RiskClock(NOW, NOW.date()), "c", instruments=INSTR)
    assert res.proposals == [] and res.exits == [] and res.equity == Decimal(100)
