"""Market hours: NYSE sessions with holidays and early closes, extended hours, crypto around the clock; throttling."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradebot.domain import AssetClass, ClientOrderId, OrderIntent, Side, Symbol
from tradebot.execution.market_hours import Session, asset_class_of, closed_reason, guess_asset_class, stock_session
from tradebot.execution.throttle import Throttle


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("when", "session"), [
    ("2026-11-24T15:00", Session.REGULAR),  # Tuesday 10:00 New York
    ("2026-11-24T12:00", Session.PRE_MARKET),
    ("2026-11-24T22:00", Session.AFTER_HOURS),
    ("2026-11-25T01:30", Session.CLOSED),  # 20:30 New York: after-hours are over
    ("2026-11-26T15:00", Session.CLOSED),  # Thanksgiving
    ("2026-11-27T18:30", Session.AFTER_HOURS),  # the day after closes at 13:00 New York
    ("2026-11-28T15:00", Session.CLOSED),  # Saturday
])
def test_the_nyse_session_follows_the_exchange_calendar(when, session):
    assert stock_session(at(when)) is session


def test_a_naive_time_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="timezone-aware"):
        stock_session(datetime(2026, 11, 24, 15))


def intent(symbol="AAPL", extended=False) -> OrderIntent:
    return OrderIntent(ClientOrderId("x"), "t", Symbol(symbol), Side.BUY, Decimal("1"), at("2026-11-24T15:00"),
                       extended_hours=extended)


def test_a_holiday_refusal_names_the_next_open():
    why = closed_reason(intent(), AssetClass.EQUITY, at("2026-11-26T15:00"), extended_hours=True)
    assert why.startswith("market closed: NYSE is closed") and "opens 2026-11-27T14:30:00+00:00" in why


def test_crypto_is_never_refused():
    assert closed_reason(intent("BTC/USD"), AssetClass.CRYPTO, at("2026-11-26T03:00"), extended_hours=False) == ""


def test_after_hours_need_the_config_switch_and_the_orders_flag():
    t = at("2026-11-24T22:00")
    assert "extended_hours is off" in closed_reason(intent(extended=True), AssetClass.EQUITY, t, False)
    assert "does not ask" in closed_reason(intent(), AssetClass.EQUITY, t, True)
    assert closed_reason(intent(extended=True), AssetClass.EQUITY, t, True) == ""


def test_the_ledgers_asset_class_wins_over_the_guess_from_the_spelling():
    assert guess_asset_class("BTC/USD") is AssetClass.CRYPTO and guess_asset_class("ETHUSDT") is AssetClass.CRYPTO
    assert guess_asset_class("AAPL") is AssetClass.EQUITY
    assert asset_class_of("WEIRD", {"WEIRD": AssetClass.CRYPTO}) is AssetClass.CRYPTO


def test_the_order_throttle_spaces_calls_beyond_its_burst_at_its_rate():
    clock = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    t = Throttle(rate=2.0, burst=2, clock=lambda: clock[0], sleep=sleep)
    for _ in range(4):
        t.acquire()
    assert waits == [0.5, 0.5] and t.waited == 1.0
