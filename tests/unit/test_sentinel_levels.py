"""The sentinel's level book: bands, ratchet, hits exactly once, re-arming, merging stored levels."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from risk.stops import initial_levels
from risk.types import RiskPolicy
from tradebot.domain import Direction, Symbol
from tradebot.sentinel.engine import SentinelEngine, now_stamp
from tradebot.sentinel.levels import LevelBook, Watched

T0 = datetime(2026, 11, 2, 15, tzinfo=UTC)


def watched(symbol="AAPL", qty="10", entry="100", atr=2.0, trail=3.0, account="acct", tp=4.0) -> Watched:
    """Return a position with ATR levels: stop 2 ATR, target 4 ATR, trail 3 ATR."""
    direction = Direction.LONG if Decimal(qty) > 0 else Direction.SHORT
    policy = RiskPolicy(stop_atr=2.0, take_profit_atr=tp, trail_atr=trail, max_holding_days=None)
    lv = initial_levels(Symbol(symbol), direction, Decimal(entry), atr, T0, policy)
    return Watched(account, Symbol(symbol), Decimal(qty), lv)


def test_a_price_inside_the_band_takes_no_slow_path():
    book = LevelBook()
    book.replace_all([watched()])
    lower, upper = book.bands["AAPL"]
    assert 95.9 < lower < 96.1 and 99.9 < upper < 100.1  # stop 96, trail anchor 100 (target 108 is further)
    assert book.on_cross("AAPL", 98.0, T0) == []


def test_a_long_stop_hits_once_with_its_level_and_reason():
    book = LevelBook()
    book.replace_all([watched()])
    hits = book.on_cross("AAPL", 95.5, T0)
    assert len(hits) == 1
    assert hits[0].leg == "stop_loss" and hits[0].level == Decimal("96") and "95.5" in hits[0].reason
    assert book.on_cross("AAPL", 90.0, T0) == []  # exiting: never twice
    assert book.bands["AAPL"] == (float("-inf"), float("inf"))


def test_a_new_high_ratchets_the_trailing_stop_and_marks_it_for_write_back():
    book = LevelBook()
    book.replace_all([watched()])
    assert book.on_cross("AAPL", 104.0, T0) == []
    p = book.get("acct", "AAPL")
    assert p.levels.trail_anchor == Decimal("104") and p.levels.stop == Decimal("98")  # 104 - 3 x 2
    assert ("acct", "AAPL") in book.dirty
    lower, _ = book.bands["AAPL"]
    assert 97.9 < lower < 98.1
    hits = book.on_cross("AAPL", 97.9, T0)
    assert [h.leg for h in hits] == ["trailing_stop"]


def test_a_short_position_stops_above_and_takes_profit_below():
    book = LevelBook()
    book.replace_all([watched(qty="-5", trail=None)])
    assert book.on_cross("AAPL", 103.0, T0) == []
    assert [h.leg for h in book.on_cross("AAPL", 104.0, T0)] == ["stop_loss"]
    book2 = LevelBook()
    book2.replace_all([watched(qty="-5", trail=None)])
    assert [h.leg for h in book2.on_cross("AAPL", 91.9, T0)] == ["take_profit"]


def test_the_band_is_the_worst_stop_across_accounts_in_one_symbol():
    book = LevelBook()
    book.replace_all([watched(account="a", atr=2.0), watched(account="b", atr=1.0)])
    lower, _ = book.bands["AAPL"]
    assert 97.9 < lower < 98.1  # b's stop at 98 is hit first
    hits = book.on_cross("AAPL", 97.5, T0)
    assert [h.position.account for h in hits] == ["b"]
    assert 95.9 < book.bands["AAPL"][0] < 96.1


def test_refreshing_positions_keeps_an_exit_in_flight_and_a_tighter_trail():
    book = LevelBook()
    book.replace_all([watched(symbol="AAPL"), watched(symbol="MSFT")])
    book.on_cross("AAPL", 95.0, T0)
    book.on_cross("MSFT", 110.0, T0)  # take profit at 108
    book.replace_all([watched(symbol="AAPL"), watched(symbol="MSFT"), watched(symbol="KO")])
    assert book.get("acct", "AAPL").exiting and book.get("acct", "MSFT").exiting
    book2 = LevelBook()
    book2.replace_all([watched()])
    book2.on_cross("AAPL", 104.0, T0)
    book2.dirty.clear()
    book2.replace_all([watched()])  # the store still holds the untrailed stop of 96
    assert book2.get("acct", "AAPL").levels.stop == Decimal("98") and ("acct", "AAPL") in book2.dirty


def test_a_closed_position_is_no_longer_watched():
    book = LevelBook()
    book.replace_all([watched()])
    book.remove("acct", "AAPL")
    assert "AAPL" not in book.bands and book.on_cross("AAPL", 1.0, T0) == []


def test_the_engine_dispatches_each_hit_once_and_rearms_after_a_failed_exit():
    async def scenario():
        book = LevelBook()
        book.replace_all([watched()])
        seen = []

        def dispatch(hit):
            seen.append(hit)
            fut = asyncio.get_running_loop().create_future()
            if len(seen) == 1:
                fut.set_exception(RuntimeError("broker refused for good"))
            else:
                fut.set_result(None)
            return fut

        engine = SentinelEngine(book, dispatch, rearm_after=0.05)
        for price in (99.0, 95.0, 94.0, 93.0):
            engine.on_trade("AAPL", price, None, now_stamp)
        await engine.drain()
        await asyncio.sleep(0)  # done callbacks run on the next loop pass
        assert len(seen) == 1 and engine.failed_dispatches == 1 and engine.ticks == 4
        assert book.get("acct", "AAPL").exiting  # not before the pause...
        await asyncio.sleep(0.1)
        assert not book.get("acct", "AAPL").exiting  # ...then re-armed
        engine.on_trade("AAPL", 92.0, None, now_stamp)
        await engine.drain()
        assert len(seen) == 2 and engine.hits == 2
        engine.on_trade("TSLA", 1.0, None, now_stamp)  # not watched
        assert engine.crossings == 2  # 95 and 92: while exiting, the band is open

    asyncio.run(scenario())
