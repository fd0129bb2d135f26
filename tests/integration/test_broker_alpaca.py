"""AlpacaBroker through the real alpaca-py TradingClient against FakeAlpacaTradingServer on 127.0.0.1."""

from __future__ import annotations

import time
import traceback
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.adapters.http import RateLimit, TokenBucket
from tradebot.domain import (
    ClientOrderId,
    OrderIntent,
    OrderStatus,
    OrderType,
    Protection,
    Side,
    Symbol,
    TimeInForce,
    make_client_order_id,
)
from tradebot.errors import BrokerError, BrokerUnavailable, ConfigError, DuplicateClientOrderId

KEY = "AKCANARYKEYID0001"
SECRET = "canary-secret-7f3a9b1c5d"  # noqa: S105 - a canary: it must never show up in an error
NOW = datetime(2024, 7, 1, 14, 0, tzinfo=UTC)
TIMEOUT = 0.4


@pytest.fixture
def fake():
    with FakeAlpacaTradingServer(KEY, SECRET, cash=Decimal("100000"), max_lifetime=60) as server:
        server.set_price("AAPL", "190.00")
        server.set_price("BTC/USD", "60000")
        yield server


@pytest.fixture
def broker(fake):
    return AlpacaBroker(KEY, SECRET, fake.base_url, timeout=TIMEOUT, sleep=lambda s: None)


def _intent(leg: str, symbol: str = "AAPL", side: Side = Side.BUY, qty: str = "10", **kw) -> OrderIntent:
    return OrderIntent(make_client_order_id("test", symbol, "c1", leg), "test", Symbol(symbol), side, Decimal(qty),
                       NOW, **kw)


def _posted(fake) -> list[dict]:
    return [r for r in fake.requests if r.method == "POST"]


def test_a_market_buy_fills_at_the_fake_price_and_shows_up_in_position_cash_and_fills(fake, broker):
    order = broker.submit_order(_intent("m"), NOW)
    assert order.status is OrderStatus.SUBMITTED and order.broker_order_id
    assert order.submitted_at.tzinfo is not None and order.submitted_at.utcoffset().total_seconds() == 0
    filled = broker.get_order(order.client_order_id)
    assert filled.status is OrderStatus.FILLED and filled.filled_qty == Decimal("10")
    assert filled.avg_fill_price == Decimal("190")
    [pos] = broker.positions()
    assert (pos.symbol, pos.qty, pos.avg_price) == ("AAPL", Decimal("10"), Decimal("190"))
    assert broker.cash() == Decimal("98100")
    [fill] = broker.fills_since(None)
    assert fill.client_order_id == order.client_order_id and fill.price == Decimal("190")
    assert fill.qty == Decimal("10") and fill.side is Side.BUY and fill.ts.tzinfo is not None
    assert broker.fills_since(datetime.now(UTC)) == []


@pytest.mark.parametrize(("kind", "kw", "wire"), [
    (OrderType.LIMIT, {"limit_price": Decimal("185.5")}, {"type": "limit", "limit_price": 185.5}),
    (OrderType.STOP, {"stop_price": Decimal("200")}, {"type": "stop", "stop_price": 200.0}),
    (OrderType.STOP_LIMIT, {"stop_price": Decimal("200"), "limit_price": Decimal("201")},
     {"type": "stop_limit", "stop_price": 200.0, "limit_price": 201.0}),
    (OrderType.TRAILING_STOP, {"trail_percent": Decimal("2.5")}, {"type": "trailing_stop", "trail_percent": 2.5}),
])
def test_every_order_type_rests_at_the_broker_with_its_prices(fake, broker, kind, kw, wire):
    order = broker.submit_order(_intent(kind.value, order_type=kind, **kw), NOW)
    assert order.status is OrderStatus.SUBMITTED and order.order_type is kind
    stored = fake.orders_by_client_id()[order.client_order_id][0]
    for key, value in wire.items():
        got = stored[key] if key == "type" else float(stored[key])
        assert got == value
    assert stored["time_in_force"] == "day"
    assert [o.client_order_id for o in broker.open_orders()] == [order.client_order_id]


def test_a_stop_triggers_and_a_trailing_stop_follows_the_high_water_mark(fake, broker):
    broker.submit_order(_intent("buy"), NOW)
    stop = broker.submit_order(_intent("stop", side=Side.SELL, qty="4", order_type=OrderType.STOP,
                                       stop_price=Decimal("180")), NOW)
    trail = broker.submit_order(_intent("trail", side=Side.SELL, qty="6", order_type=OrderType.TRAILING_STOP,
                                        trail_percent=Decimal("5")), NOW)
    fake.set_price("AAPL", "200")  # trailing stop now at 190
    assert broker.get_order(trail.client_order_id).stop_price == Decimal("190")
    fake.set_price("AAPL", "189")
    assert broker.get_order(trail.client_order_id).status is OrderStatus.FILLED
    assert broker.get_order(stop.client_order_id).status is OrderStatus.SUBMITTED
    fake.set_price("AAPL", "179")
    assert broker.get_order(stop.client_order_id).status is OrderStatus.FILLED
    assert broker.positions() == []


def test_crypto_goes_gtc_equities_day_unless_asked_and_extended_hours_is_passed_through(fake, broker):
    btc = broker.submit_order(_intent("btc", symbol="BTC/USD", qty="0.0125"), NOW)
    gtc = broker.submit_order(_intent("gtc", order_type=OrderType.LIMIT, limit_price=Decimal("150"),
                                      time_in_force=TimeInForce.GTC), NOW)
    ext = broker.submit_order(_intent("ext", order_type=OrderType.LIMIT, limit_price=Decimal("150"),
                                      extended_hours=True), NOW)
    placed = fake.orders_by_client_id()
    assert placed[btc.client_order_id][0]["time_in_force"] == "gtc"
    assert placed[gtc.client_order_id][0]["time_in_force"] == "gtc"
    assert placed[ext.client_order_id][0]["extended_hours"] is True
    assert placed[ext.client_order_id][0]["time_in_force"] == "day"
    [pos] = broker.positions()
    assert pos.symbol == "BTC/USD" and pos.qty == Decimal("0.0125")
    [fill] = broker.fills_since(None)
    assert fill.symbol == "BTC/USD" and fill.client_order_id == btc.client_order_id


def test_a_bracket_entry_carries_its_stop_and_target_to_the_broker_and_the_stop_fires(fake, broker):
    intent = _intent("bracket", protection=Protection(Decimal("180"), take_profit=Decimal("210")))
    entry = broker.submit_order(intent, NOW)
    stored = fake.orders_by_client_id()[entry.client_order_id][0]
    assert stored["order_class"] == "bracket"
    legs = {leg["type"]: leg for leg in stored["legs"]}
    assert legs["stop"]["stop_price"] == "180" and legs["limit"]["limit_price"] == "210"
    working = broker.open_orders()
    stop = next(o for o in working if o.order_type is OrderType.STOP)
    assert stop.parent_client_order_id == entry.client_order_id and stop.side is Side.SELL
    assert stop.qty == Decimal("10") and stop.stop_price == Decimal("180")
    assert {o.order_type for o in working} == {OrderType.STOP, OrderType.LIMIT}
    fake.set_price("AAPL", "179")
    assert broker.open_orders() == [] and broker.positions() == []


def test_a_stop_only_protection_becomes_an_oto_with_a_stop_limit_leg(fake, broker):
    intent = _intent("oto", protection=Protection(Decimal("180"), stop_limit_price=Decimal("179.5")))
    entry = broker.submit_order(intent, NOW)
    stored = fake.orders_by_client_id()[entry.client_order_id][0]
    assert stored["order_class"] == "oto"
    [leg] = stored["legs"]
    assert (leg["type"], leg["stop_price"], leg["limit_price"]) == ("stop_limit", "180", "179.5")


def test_protect_places_an_oco_exit_for_a_holding_and_is_idempotent_on_its_client_order_id(fake, broker):
    broker.submit_order(_intent("buy"), NOW)
    cid = make_client_order_id("test", "AAPL", "c1", "protect")
    protection = Protection(Decimal("180"), take_profit=Decimal("205"))
    first = broker.protect(Symbol("AAPL"), Decimal("10"), protection, cid, NOW)
    again = broker.protect(Symbol("AAPL"), Decimal("10"), protection, cid, NOW)
    assert first.client_order_id == again.client_order_id == cid
    assert first.broker_order_id == again.broker_order_id and fake.orders_created == 2
    assert first.side is Side.SELL and first.limit_price == Decimal("205")
    working = broker.open_orders()
    assert {(o.order_type, o.parent_client_order_id) for o in working} == {(OrderType.LIMIT, None),
                                                                          (OrderType.STOP, cid)}
    fake.set_price("AAPL", "206")  # the target fills, the stop is canceled with it
    assert broker.open_orders() == [] and broker.positions() == []


def test_protect_without_a_target_places_a_plain_stop_sell(fake, broker):
    broker.submit_order(_intent("buy"), NOW)
    order = broker.protect(Symbol("AAPL"), Decimal("10"), Protection(Decimal("181")),
                           ClientOrderId("tb-protect-stop"), NOW)
    assert (order.order_type, order.side, order.stop_price) == (OrderType.STOP, Side.SELL, Decimal("181"))


def test_a_duplicate_client_order_id_raises_and_the_lookup_finds_the_original(fake, broker):
    intent = _intent("dup")
    original = broker.submit_order(intent, NOW)
    with pytest.raises(DuplicateClientOrderId, match="already holds"):
        broker.submit_order(intent, NOW)
    found = broker.get_order(intent.client_order_id)
    assert found.broker_order_id == original.broker_order_id
    assert fake.orders_created == 1 and fake.duplicate_refusals == 1


def test_a_refusal_comes_back_rejected_with_the_brokers_message(fake, broker):
    order = broker.submit_order(_intent("big", qty="100000"), NOW)
    assert order.status is OrderStatus.REJECTED and order.reject_reason == "insufficient buying power"
    subpenny = broker.submit_order(_intent("sub", order_type=OrderType.LIMIT, limit_price=Decimal("150.123")), NOW)
    assert subpenny.status is OrderStatus.REJECTED and "sub-penny" in subpenny.reject_reason
    assert broker.get_order(order.client_order_id) is None and fake.orders_created == 0


def test_an_unknown_client_order_id_looks_up_as_none(broker):
    assert broker.get_order(ClientOrderId("tb-never-sent")) is None


def test_accept_then_timeout_is_unavailable_and_a_later_lookup_finds_the_order(fake, broker):
    fake.inject("accept_then_timeout", delay=TIMEOUT * 5)
    intent = _intent("slow")
    with pytest.raises(BrokerUnavailable, match=f"submit_order {intent.client_order_id}") as err:
        broker.submit_order(intent, NOW)
    assert "outcome unknown" in str(err.value)
    assert broker.get_order(intent.client_order_id).status is OrderStatus.FILLED
    assert len(_posted(fake)) == 1, "the POST must not be retried"


@pytest.mark.parametrize("kind", ["drop_before", "error_before", "rate_limited"])
def test_a_failure_before_creation_is_unavailable_and_the_lookup_finds_nothing(fake, broker, kind):
    fake.inject(kind, status=503, retry_after="0")
    intent = _intent(kind)
    with pytest.raises(BrokerUnavailable, match=intent.client_order_id):
        broker.submit_order(intent, NOW)
    assert broker.get_order(intent.client_order_id) is None
    assert len(_posted(fake)) == 1 and fake.faults_injected[kind] == 1


@pytest.mark.parametrize("kind", ["drop_after", "error_after"])
def test_a_failure_after_creation_is_unavailable_and_the_lookup_finds_the_order(fake, broker, kind):
    fake.inject(kind, status=504)
    intent = _intent(kind)
    with pytest.raises(BrokerUnavailable):
        broker.submit_order(intent, NOW)
    assert broker.get_order(intent.client_order_id) is not None
    assert len(_posted(fake)) == 1 and fake.orders_created == 1


def test_reads_wait_out_a_429_per_retry_after_and_then_succeed(fake):
    waits: list[float] = []
    broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=TIMEOUT, sleep=waits.append)
    fake.inject("rate_limited", method="GET", path="/v2/account", retry_after="2")
    fake.inject("error_before", method="GET", path="/v2/account", status=502)
    assert broker.cash() == Decimal("100000")
    assert waits[0] >= 2.0 and len(waits) == 2


def test_reads_that_keep_failing_end_unavailable(fake, broker):
    fake.inject("drop_before", times=3, method="GET", path="/v2/positions")
    with pytest.raises(BrokerUnavailable, match="positions"):
        broker.positions()


def test_cancel_takes_a_working_order_off_and_leaves_a_filled_one_unchanged(fake, broker):
    resting = broker.submit_order(_intent("rest", order_type=OrderType.LIMIT, limit_price=Decimal("150")), NOW)
    assert broker.cancel_order(resting.client_order_id, NOW).status is OrderStatus.CANCELED
    done = broker.submit_order(_intent("done"), NOW)
    assert broker.cancel_order(done.client_order_id, NOW).status is OrderStatus.FILLED
    with pytest.raises(BrokerError, match="no order"):
        broker.cancel_order(ClientOrderId("tb-unknown"), NOW)


def test_fills_since_pages_through_many_activities_oldest_first(fake, broker):
    for i in range(105):
        broker.submit_order(_intent(f"n{i}", qty="1"), NOW)
    fills = broker.fills_since(None)
    assert len(fills) == 105 and len({f.fill_id for f in fills}) == 105
    assert [f.ts for f in fills] == sorted(f.ts for f in fills)


def test_order_endpoints_are_rate_limited_client_side(fake):
    waited: list[float] = []
    bucket = TokenBucket(RateLimit("alpaca-orders", 60, 2), sleep=waited.append)
    broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=TIMEOUT, order_rate=bucket)
    for i in range(3):
        broker.submit_order(_intent(f"r{i}", qty="1"), NOW)
    assert len(waited) == 1 and 0.5 < waited[0] <= 1.0


def test_no_error_message_or_traceback_carries_the_secret_key(fake):
    wrong = AlpacaBroker(KEY, SECRET + "-wrong", fake.base_url, timeout=TIMEOUT, sleep=lambda s: None)
    broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=TIMEOUT, sleep=lambda s: None)
    errors: list[BaseException] = []
    for fault, call in ((None, lambda: wrong.cash()), (None, lambda: wrong.submit_order(_intent("w"), NOW)),
                        ("accept_then_timeout", lambda: broker.submit_order(_intent("t"), NOW)),
                        ("error_before", lambda: broker.submit_order(_intent("e"), NOW))):
        if fault:
            fake.inject(fault, delay=TIMEOUT * 4)
        with pytest.raises(BrokerError) as err:
            call()
        errors.append(err.value)
    assert "401" in str(errors[0])
    for exc in errors:
        text = "".join(traceback.format_exception(exc)) + repr(exc)
        assert SECRET not in text and KEY not in text
    assert SECRET not in repr(broker)


def test_missing_keys_are_refused_with_a_clear_message():
    with pytest.raises(ConfigError, match="key_id and secret_key"):
        AlpacaBroker("", "", "http://127.0.0.1:1")


def test_the_fake_stops_itself_after_its_max_lifetime():
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=0.2) as server:
        deadline = time.monotonic() + 5
        while not server._stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server._stop.is_set()


def test_the_builder_takes_keys_from_the_secret_store_and_names_a_missing_one(fake):
    from tradebot.adapters.alpaca_broker import build_alpaca_trading
    from tradebot.config import AlpacaConfig

    config = AlpacaConfig(trading_url=fake.base_url, stream_url=fake.stream_url, order_rate_per_minute=120)
    stored = {"alpaca_key_id": KEY, "alpaca_secret_key": SECRET}
    broker, stream = build_alpaca_trading(config, stored.get)
    assert broker.cash() == Decimal("100000") and stream.name == "alpaca"
    with pytest.raises(ConfigError, match="alpaca_secret_key"):
        build_alpaca_trading(config, {"alpaca_key_id": KEY}.get)


def test_delayed_fills_leave_the_order_working_until_the_fake_fills_it(fake, broker):
    fake.delay_fills(0.2)
    order = broker.submit_order(_intent("late"), NOW)
    assert broker.get_order(order.client_order_id).status is OrderStatus.SUBMITTED
    deadline = time.monotonic() + 5
    while broker.get_order(order.client_order_id).status is not OrderStatus.FILLED:
        assert time.monotonic() < deadline, "the delayed fill never came"
        time.sleep(0.02)


def test_random_faults_are_reproducible_and_counted_and_lookups_keep_every_id_placed_once():
    outcomes = []
    for _ in range(2):
        with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as server:
            server.set_price("AAPL", "100")
            server.random_faults({"drop_before": 0.2, "drop_after": 0.2, "error_before": 0.1}, seed=11)
            broker = AlpacaBroker(KEY, SECRET, server.base_url, timeout=TIMEOUT, sleep=lambda s: None)
            seen = []
            for i in range(20):
                intent = _intent(f"chaos{i}", qty="1")
                for _attempt in range(10):  # what the submitter does: look up before every retry
                    if broker.get_order(intent.client_order_id) is not None:
                        break
                    try:
                        broker.submit_order(intent, NOW)
                        break
                    except BrokerUnavailable:
                        seen.append(i)
            placed = server.orders_by_client_id()
            assert len(placed) == 20 and all(len(v) == 1 for v in placed.values())
            outcomes.append((seen, dict(server.faults_injected)))
    assert outcomes[0] == outcomes[1] and sum(outcomes[0][1].values()) > 3


def test_without_the_uniqueness_guard_the_fake_records_a_client_order_id_placed_twice():
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60, enforce_unique_client_ids=False) as server:
        broker = AlpacaBroker(KEY, SECRET, server.base_url, timeout=TIMEOUT)
        intent = _intent("twice", order_type=OrderType.LIMIT, limit_price=Decimal("50"))
        broker.submit_order(intent, NOW)
        broker.submit_order(intent, NOW)
        assert len(server.orders_by_client_id()[intent.client_order_id]) == 2
        assert server.order_posts[intent.client_order_id] == 2


def test_the_account_number_is_logged_only_as_its_hashed_reference(fake):
    from tradebot.logs import REDACTOR, account_ref

    broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0)
    broker.cash()
    assert REDACTOR.redact("account PA0000FAKE ok") == f"account {account_ref('PA0000FAKE')} ok"
