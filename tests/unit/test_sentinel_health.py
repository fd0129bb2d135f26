"""Sentinel health rules: reconnect backoff with jitter, staleness per feed, payload of the stop event."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.integration.sentinel_support import levels
from tradebot.domain import Symbol
from tradebot.sentinel.config import SentinelConfig
from tradebot.sentinel.exits import ExitOutcome
from tradebot.sentinel.health import Backoff, FeedStatus, feed_stale
from tradebot.sentinel.levels import Hit, Watched
from tradebot.sentinel.notify import stop_payload


def test_backoff_grows_exponentially_up_to_its_cap_with_jitter_inside_each_ceiling():
    low, high = Backoff(0.5, 8.0, rng=lambda: 0.0), Backoff(0.5, 8.0, rng=lambda: 1.0)
    assert [high.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert [low.delay(n) for n in (1, 5)] == [pytest.approx(0.05), pytest.approx(0.8)]  # 10% floor
    jittered = {Backoff(0.5, 8.0).delay(4) for _ in range(50)}
    assert len(jittered) > 40 and all(0.4 <= d <= 4.0 for d in jittered)


def test_a_feed_is_stale_when_down_or_silent_while_its_market_is_open():
    st = FeedStatus("alpaca-stocks", symbols=frozenset({"AAPL"}))
    assert feed_stale(st, 30, market_open=False)  # never connected
    st.up()
    assert not feed_stale(st, 30, market_open=True, now=st.last_message + 29)
    assert feed_stale(st, 30, market_open=True, now=st.last_message + 30)
    assert not feed_stale(st, 30, market_open=False, now=st.last_message + 3600)  # a closed market is quiet
    st.down("dropped")
    assert feed_stale(st, 30, market_open=False) and st.last_error == "dropped"
    assert not feed_stale(FeedStatus("idle"), 30, market_open=True)  # no symbols: nothing to watch


def test_the_stop_event_payload_carries_price_level_and_reason():
    w = Watched("acct", Symbol("AAPL"), Decimal(10), levels("AAPL", "100", 2.0))
    hit = Hit(w, 95.5, Decimal("96"), "stop_loss", "stop-loss hit: last 95.5 <= stop 96", datetime.now(UTC))
    payload = stop_payload(ExitOutcome(hit, None, Decimal(0), "closed first"))
    assert (payload["price"], payload["level"], payload["reason"]) == ("95.5", "96", hit.reason)
    assert payload["order_status"] == "closed_by_broker_stop" and payload["symbol"] == "AAPL"


def test_a_bad_sentinel_setting_is_refused_naming_it():
    with pytest.raises(ValueError, match="backoff_max_seconds"):
        SentinelConfig(backoff_base_seconds=5, backoff_max_seconds=1)
    with pytest.raises(ValueError, match="alpaca_stream_url"):
        SentinelConfig(alpaca_stream_url="https://stream.data.alpaca.markets")


def test_the_sentinel_metrics_export_ticks_feed_state_exits_and_unprotected_positions():
    from tradebot.metrics import Metrics
    from tradebot.sentinel.engine import SentinelEngine
    from tradebot.sentinel.levels import LevelBook
    from tradebot.sentinel.metrics import sentinel_metrics

    base = Metrics(process=False)
    m = sentinel_metrics(base)
    assert sentinel_metrics(base) is m  # one set per registry
    st = FeedStatus("alpaca-crypto", symbols=frozenset({"BTC/USD"}))
    st.up()
    st.bad("junk")
    engine = SentinelEngine(LevelBook(), lambda hit: None)
    engine.ticks = 1234
    m.feed(st)
    m.engine(engine, unprotected=2)
    w = Watched("acct", Symbol("AAPL"), Decimal(10), levels("AAPL", "100", 2.0))
    m.exit(ExitOutcome(Hit(w, 95.0, Decimal("96"), "stop_loss", "x", datetime.now(UTC)), None, Decimal(0)))
    text = base.render()
    assert "tradebot_sentinel_ticks_total 1234.0" in text
    assert 'tradebot_sentinel_feed_connected{feed="alpaca-crypto"} 1.0' in text
    assert 'tradebot_sentinel_feed_malformed{feed="alpaca-crypto"} 1.0' in text
    assert 'tradebot_sentinel_exits_total{outcome="closed_by_broker"} 1.0' in text
    assert "tradebot_sentinel_unprotected_positions 2.0" in text
    assert 'tradebot_feed_staleness_seconds{feed="sentinel:alpaca-crypto"}' in text
