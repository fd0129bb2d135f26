"""PoliteSession, TokenBucket, TTLCache and RetryPolicy: limits, backoff, Retry-After and the read cache."""

from __future__ import annotations

import logging
import random
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import faults
from tests.fakes.earnings_api import CALENDAR, FakeFinnhubServer
from tradebot.adapters.http import (
    Politeness,
    RateLimit,
    RetryPolicy,
    TokenBucket,
    TTLCache,
    redact_url,
    retry_after_seconds,
)
from tradebot.errors import DataError

TOKEN = "tok-secret"


class FakeTime:
    """A monotonic clock that advances only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    with FakeFinnhubServer([], token=TOKEN) as server:
        yield server


def _get(session, fake, **params):
    # The token rides in a header: urllib3's DEBUG log prints query strings verbatim.
    return session.get(f"{fake.base_url}{CALENDAR}", params=params, headers={"X-Finnhub-Token": TOKEN})


def test_the_bucket_hands_out_the_burst_then_one_token_per_interval():
    t = FakeTime()
    bucket = TokenBucket(RateLimit("x", per_minute=600, burst=3), monotonic=t.monotonic, sleep=t.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.1, 0.1, 0.1])
    assert t.now == pytest.approx(0.3)


def test_the_bucket_limits_a_concurrent_burst_as_seen_by_the_server(fake):
    limit = RateLimit("burst-test", per_minute=1200, burst=3)  # 20 per second after 3 at once
    politeness = Politeness(limit, RetryPolicy(timeout=2.0), cache=None)
    with ThreadPoolExecutor(4) as pool:
        sessions = threading.local()

        def call(i: int) -> int:
            if not hasattr(sessions, "s"):
                sessions.s = politeness.session(secret_params=("token",))
            return _get(sessions.s, fake, n=str(i)).status_code

        assert set(pool.map(call, range(11))) == {200}
    arrivals = sorted(r.at for r in fake.requests)
    assert len(arrivals) == 11
    # Unthrottled, 11 local requests land within a few ms; the bucket spreads 8 of them 50 ms apart.
    assert arrivals[-1] - arrivals[0] >= 8 * 0.05 - 0.1
    for i in range(11):  # no window holds more than burst + refills (+1 for network jitter)
        for j in range(i + 1, 11):
            assert j - i + 1 <= 3 + (arrivals[j] - arrivals[i]) * 20 + 1


def test_retry_after_is_honoured_before_the_next_attempt(fake):
    fake.faults.add(CALENDAR, faults.rate_limited("1"))
    session = faults.quick_politeness(RateLimit("finnhub", 60, 10)).session(secret_params=("token",))
    assert _get(session, fake).status_code == 200
    first, second = fake.requests
    assert first.fault is not None and second.at - first.at >= 0.95


def test_a_retry_after_longer_than_allowed_fails_at_once(fake):
    fake.faults.add(CALENDAR, faults.rate_limited("3600"))
    session = faults.quick_politeness(RateLimit("finnhub", 60, 10)).session(secret_params=("token",))
    with pytest.raises(DataError, match="asks to wait 3600 s"):
        _get(session, fake)
    assert len(fake.requests) == 1


def test_500_then_success_and_timeout_then_success_are_retried(fake):
    fake.faults.add(CALENDAR, faults.status(500))
    fake.faults.add(CALENDAR, faults.timeout(1.0))
    session = faults.quick_politeness(RateLimit("finnhub", 60, 10), timeout=0.2).session(secret_params=("token",))
    assert _get(session, fake).status_code == 200
    assert [r.fault.kind if r.fault else None for r in fake.requests] == ["status", "timeout", None]


def test_a_client_error_is_returned_without_retrying(fake):
    fake.faults.add(CALENDAR, faults.status(403))
    session = faults.quick_politeness(RateLimit("finnhub", 60, 10)).session()
    assert _get(session, fake).status_code == 403 and len(fake.requests) == 1


def test_exhausted_retries_name_provider_path_and_status_never_the_token(fake, caplog):
    fake.faults.add(CALENDAR, faults.status(502), times=3)
    caplog.set_level(logging.DEBUG)
    session = faults.quick_politeness(RateLimit("finnhub", 60, 10)).session(secret_params=("token",))
    with pytest.raises(DataError, match=r"^finnhub: GET /api/v1/calendar/earnings failed with status 502 after 3"):
        _get(session, fake)
    assert TOKEN not in caplog.text


def test_a_refused_connection_becomes_a_data_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = faults.quick_politeness(RateLimit("nowhere", 60, 10), attempts=2).session()
    with pytest.raises(DataError, match="nowhere: GET /x connection failed after 2 attempts"):
        session.get(f"http://127.0.0.1:{port}/x")


def test_a_cache_hit_is_logged_at_info_and_not_requested_again(fake, caplog):
    caplog.set_level(logging.INFO, logger="tradebot.adapters.http")
    session = faults.quick_politeness(RateLimit("finnhub", 60, 10)).session(secret_params=("token",))
    first, second = _get(session, fake, symbol="AAPL"), _get(session, fake, symbol="AAPL")
    assert first.json() == second.json() and len(fake.requests) == 1
    hits = [r for r in caplog.records if "cache hit" in r.getMessage()]
    assert len(hits) == 1 and hits[0].levelno == logging.INFO
    _get(session, fake, symbol="MSFT")
    assert len(fake.requests) == 2  # different params, different key


def test_cache_entries_expire_after_the_ttl():
    t = FakeTime()
    cache = TTLCache(ttl_seconds=1800, monotonic=t.monotonic)
    cache.put("k", "response")  # type: ignore[arg-type]
    t.now = 1799
    assert cache.get("k") == ("response", 1799)
    t.now = 1801
    assert cache.get("k") is None


def test_secret_parameters_never_reach_cache_keys():
    url = f"https://finnhub.io/api/v1/calendar/earnings?to=2024-02-01&token={TOKEN}&from=2024-01-01"
    assert redact_url(url, {"token"}) == "https://finnhub.io/api/v1/calendar/earnings?from=2024-01-01&to=2024-02-01"


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after_seconds(format_datetime(later, usegmt=True)) <= 31


@given(attempt=st.integers(1, 12), seed=st.integers(0, 2**32))
def test_backoff_grows_exponentially_with_bounded_jitter(attempt, seed):
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
    assert 0.5 * ceiling <= policy.backoff(attempt, random.Random(seed)) <= ceiling
