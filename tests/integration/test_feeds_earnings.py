"""FinnhubEarnings: requests against FakeFinnhubServer on 127.0.0.1."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from tests.fakes import faults
from tests.fakes.earnings_api import CALENDAR, FakeFinnhubServer, earnings_row
from tradebot.adapters.earnings_api import FinnhubEarnings
from tradebot.adapters.http import FINNHUB_RATE
from tradebot.domain import EarningsEvent, EarningsHour
from tradebot.errors import DataError

TOKEN = "finnhub-token-secret"
NOW = datetime(2024, 7, 20, tzinfo=UTC)


@pytest.fixture
def fake():
    rows = [earnings_row("AAPL", date(2024, 8, 1), "amc", 1.35, None, quarter=3),
            earnings_row("MSFT", date(2024, 7, 30), "amc", 2.93, 2.95, quarter=4),
            earnings_row("JPM", date(2024, 7, 12), "bmo", 4.19, 6.12, quarter=2),
            earnings_row("KO", date(2024, 7, 23), "", 0.81, None, quarter=2),
            earnings_row("XOM", date(2024, 8, 2), "dmh", 2.0, None, quarter=2)]
    with FakeFinnhubServer(rows, token=TOKEN) as server:
        yield server


def _api(fake, **kw) -> FinnhubEarnings:
    return FinnhubEarnings(f"{fake.base_url}/api/v1", TOKEN, lambda: NOW,
                           politeness=faults.quick_politeness(FINNHUB_RATE, **kw))


def test_the_calendar_becomes_earnings_events_with_hours_and_numbers(fake):
    events = _api(fake).request_earnings(["AAPL", "MSFT", "KO", "XOM"], date(2024, 7, 15), date(2024, 8, 2))
    by = {e.symbol: e for e in events}
    assert set(by) == {"AAPL", "MSFT", "KO", "XOM"}
    assert by["MSFT"] == EarningsEvent("MSFT", date(2024, 7, 30), EarningsHour.AFTER_CLOSE, 2.93, 2.95,
                                       1.1e9, 1.2e9, 4, 2024)
    assert by["AAPL"].eps_actual is None and by["AAPL"].surprise is None
    assert by["KO"].hour is EarningsHour.UNKNOWN and by["XOM"].hour is EarningsHour.DURING
    req = fake.requests[0]
    assert req.headers["x-finnhub-token"] == TOKEN and "token" not in req.query
    assert req.path == CALENDAR and (req.query["from"], req.query["to"]) == ("2024-07-15", "2024-08-02")


def test_one_symbol_narrows_the_query(fake):
    events = _api(fake).request_earnings(["JPM"], date(2024, 7, 1), date(2024, 7, 31))
    assert [e.hour for e in events] == [EarningsHour.BEFORE_OPEN]
    assert fake.requests[0].query["symbol"] == "JPM"


def test_a_repeat_read_is_served_from_the_cache_and_logged_without_the_token(fake, caplog):
    api = _api(fake)
    caplog.set_level(logging.DEBUG)
    first = api.request_earnings(["AAPL"], date(2024, 7, 1), date(2024, 8, 31))
    second = api.request_earnings(["AAPL"], date(2024, 7, 1), date(2024, 8, 31))
    assert first == second and len(fake.requests) == 1
    assert "finnhub cache hit: GET /api/v1/calendar/earnings" in caplog.text
    assert TOKEN not in caplog.text
    assert all(TOKEN not in key for key in api.politeness.cache.urls())


def test_a_bad_token_raises_a_data_error_with_status_401_but_not_the_token(fake):
    api = FinnhubEarnings(f"{fake.base_url}/api/v1", "wrong-token", lambda: NOW,
                          politeness=faults.quick_politeness(FINNHUB_RATE))
    with pytest.raises(DataError, match=r"finnhub: GET /calendar/earnings failed with status 401") as err:
        api.request_earnings(["AAPL"], date(2024, 7, 1), date(2024, 8, 31))
    assert "wrong-token" not in str(err.value)


def test_429_then_500_then_success(fake):
    fake.faults.add(CALENDAR, faults.rate_limited("0"))
    fake.faults.add(CALENDAR, faults.status(500))
    events = _api(fake).request_earnings(["AAPL"], date(2024, 7, 1), date(2024, 8, 31))
    assert len(events) == 1 and len(fake.requests) == 3


def test_a_timeout_then_success(fake):
    fake.faults.add(CALENDAR, faults.timeout(1.5))
    assert len(_api(fake, timeout=0.3).request_earnings(["AAPL"], date(2024, 7, 1), date(2024, 8, 31))) == 1


@pytest.mark.parametrize("fault", [faults.malformed(), faults.truncated()], ids=["malformed", "truncated"])
def test_malformed_or_truncated_json_raises_a_data_error(fake, fault):
    fake.faults.add(CALENDAR, fault)
    with pytest.raises(DataError, match="finnhub: GET /calendar/earnings returned malformed JSON"):
        _api(fake).request_earnings(["AAPL"], date(2024, 7, 1), date(2024, 8, 31))


def test_an_empty_calendar_and_an_unknown_symbol_give_no_events(fake):
    fake.faults.add(CALENDAR, faults.empty())
    assert _api(fake).request_earnings(["AAPL", "MSFT"], date(2024, 7, 1), date(2024, 8, 31)) == []
    fake.faults.add(CALENDAR, faults.unknown_symbol("ZZZZ"))
    assert _api(fake, cache=False).request_earnings(["ZZZZ"], date(2024, 7, 1), date(2024, 8, 31)) == []
