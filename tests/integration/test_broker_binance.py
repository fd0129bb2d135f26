"""BinanceBroker through python-binance's real Client against FakeBinanceSpotServer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fakes.binance_spot import FakeBinanceSpotServer
from tradebot.adapters.binance_broker import BinanceBroker
from tradebot.adapters.binance_orders import protection_client_order_id
from tradebot.adapters.ports import Broker
from tradebot.domain import (
    ClientOrderId,
    OrderIntent,
    OrderStatus,
    OrderType,
    Protection,
    Side,
    Symbol,
    make_client_order_id,
)
from tradebot.errors import BrokerError, BrokerUnavailable, DuplicateClientOrderId

KEY, SECRET = "binance-key-01", "binance-canary-secret-7f3a"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BTC = Symbol("BTC/USD")


@pytest.fixture
def fake():
    with FakeBinanceSpotServer(KEY, SECRET, max_lifetime=60) as server:
        server.set_price("BTCUSDT", "50000")
        server.set_price("ETHUSDT", "3000")
        yield server


def _broker(fake, **kw) -> BinanceBroker:
    kw.setdefault("timeout", 0.5)
    return BinanceBroker(KEY, SECRET, rest_url=fake.base_url, **kw)


@pytest.fixture
def broker(fake) -> BinanceBroker:
    return _broker(fake)


def _intent(leg: str, qty: str = "0.01", side: Side = Side.BUY, symbol: Symbol = BTC, **kw) -> OrderIntent:
    return OrderIntent(make_client_order_id("s", symbol, "c1", leg), "s", symbol, side, Decimal(qty), NOW, **kw)


def test_a_market_buy_fills_at_the_set_price_under_our_client_order_id(fake, broker):
    order = broker.submit_order(_intent("m"), NOW)
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == Decimal("50000") and order.filled_qty == Decimal("0.01")
    [placed] = fake.orders_by_client_id()[order.client_order_id]
    assert placed["type"] == "MARKET" and placed["symbol"] == "BTCUSDT"


def test_quantities_round_down_to_the_lot_step_and_limit_prices_round_in_our_favour(fake, broker):
    buy = broker.submit_order(_intent("b", "0.0123456", order_type=OrderType.LIMIT,
                                      limit_price=Decimal("49000.019")), NOW)
    fake.exchange.balances["BTC"] = [Decimal("1"), Decimal("0")]
    sell = broker.submit_order(_intent("s", "0.0123456", Side.SELL, order_type=OrderType.LIMIT,
                                       limit_price=Decimal("51000.011")), NOW)
    assert (buy.qty, buy.limit_price) == (Decimal("0.01234"), Decimal("49000.01"))
    assert (sell.qty, sell.limit_price) == (Decimal("0.01234"), Decimal("51000.02"))
    assert buy.status is OrderStatus.SUBMITTED and sell.status is OrderStatus.SUBMITTED


def test_a_quantity_below_the_lot_minimum_is_rejected_before_any_order_is_sent(fake, broker):
    order = broker.submit_order(_intent("tiny", "0.000001"), NOW)
    assert order.status is OrderStatus.REJECTED and "LOT_SIZE" in order.reject_reason
    assert fake.orders_created == 0


def test_a_resting_limit_fills_when_the_price_crosses_it(fake, broker):
    intent = _intent("l", order_type=OrderType.LIMIT, limit_price=Decimal("49500"))
    assert broker.submit_order(intent, NOW).status is OrderStatus.SUBMITTED
    fake.set_price("BTCUSDT", "49400")
    order = broker.get_order(intent.client_order_id)
    assert order is not None and order.status is OrderStatus.FILLED and order.avg_fill_price == Decimal("49500")


def test_a_stop_limit_triggers_when_the_price_crosses_its_stop(fake, broker):
    intent = _intent("sl", order_type=OrderType.STOP_LIMIT, stop_price=Decimal("51000"), limit_price=Decimal("51200"))
    order = broker.submit_order(intent, NOW)
    assert (order.status, order.order_type, order.stop_price) == (OrderStatus.SUBMITTED, OrderType.STOP_LIMIT,
                                                                  Decimal("51000"))
    fake.set_price("BTCUSDT", "50900")
    assert broker.get_order(intent.client_order_id).status is OrderStatus.SUBMITTED
    fake.set_price("BTCUSDT", "51100")
    filled = broker.get_order(intent.client_order_id)
    assert filled.status is OrderStatus.FILLED and filled.avg_fill_price == Decimal("51200")


def test_a_plain_stop_becomes_a_stop_loss_limit_inside_the_slippage_band(fake):
    broker = _broker(fake, stop_slippage_bps=Decimal("100"))
    fake.exchange.balances["BTC"] = [Decimal("1"), Decimal("0")]
    order = broker.submit_order(_intent("st", side=Side.SELL, order_type=OrderType.STOP,
                                        stop_price=Decimal("48000")), NOW)
    [placed] = fake.orders_by_client_id()[order.client_order_id]
    assert placed["type"] == "STOP_LOSS_LIMIT"
    assert (Decimal(placed["stopPrice"]), Decimal(placed["price"])) == (Decimal("48000"), Decimal("47520"))


def test_a_protected_entry_gets_an_oco_once_filled_and_the_stop_cancels_the_take_profit(fake, broker):
    intent = _intent("p", protection=Protection(Decimal("45000"), Decimal("55000"), Decimal("44900")))
    assert broker.submit_order(intent, NOW).status is OrderStatus.FILLED
    legs = broker.open_orders()
    assert {leg.order_type for leg in legs} == {OrderType.LIMIT, OrderType.STOP_LIMIT}
    parent = legs[0].parent_client_order_id
    assert parent == protection_client_order_id(intent.client_order_id)
    assert all(leg.parent_client_order_id == parent for leg in legs)
    # The entry's commission was charged in BTC: the OCO sells what is actually held.
    assert legs[0].qty == Decimal("0.00999")
    fake.set_price("BTCUSDT", "44950")
    oco = broker.get_order(parent)
    assert oco is not None and oco.status is OrderStatus.FILLED and oco.avg_fill_price == Decimal("44900")
    statuses = {o.type: o.status for o in fake.exchange.orders.values() if o.list_id != -1}
    assert statuses == {"LIMIT_MAKER": "EXPIRED", "STOP_LOSS_LIMIT": "FILLED"}
    assert broker.open_orders() == []


def test_a_protected_limit_entry_gets_its_oco_when_a_later_lookup_sees_it_filled(fake, broker):
    intent = _intent("pl", order_type=OrderType.LIMIT, limit_price=Decimal("49500"),
                     protection=Protection(Decimal("45000"), Decimal("55000")))
    assert broker.submit_order(intent, NOW).status is OrderStatus.SUBMITTED
    assert [o.client_order_id for o in broker.open_orders()] == [intent.client_order_id]
    fake.set_price("BTCUSDT", "49400")
    [entry] = broker.protect_filled_entries(NOW)
    assert entry.status is OrderStatus.FILLED
    legs = broker.open_orders()
    assert len(legs) == 2 and {leg.qty for leg in legs} == {Decimal("0.00999")}
    assert broker.protect_filled_entries(NOW) == [] and fake.orders_created == 3


def test_protect_is_idempotent_on_its_client_id_and_a_take_profit_fill_expires_the_stop(fake, broker):
    fake.exchange.balances["ETH"] = [Decimal("2"), Decimal("0")]
    cid = make_client_order_id("s", "ETH/USD", "c1", "protect")
    protection = Protection(Decimal("2800"), Decimal("3300"))
    first = broker.protect(Symbol("ETH/USD"), Decimal("1.23456"), protection, cid, NOW)
    again = broker.protect(Symbol("ETH/USD"), Decimal("1.23456"), protection, cid, NOW)
    assert first.status is OrderStatus.SUBMITTED and first.qty == Decimal("1.2345")
    assert again.broker_order_id == first.broker_order_id and fake.orders_created == 2
    assert fake.balance("ETH")[1] == Decimal("1.2345")  # one lock shared by both legs
    fake.set_price("ETHUSDT", "3350")
    done = broker.get_order(cid)
    assert done.status is OrderStatus.FILLED and done.avg_fill_price == Decimal("3300")
    assert sorted(o["status"] for o in (fake.orders_by_client_id()[f"{cid}-sl"] +
                                        fake.orders_by_client_id()[f"{cid}-tp"])) == ["EXPIRED", "FILLED"]


def test_an_order_is_found_by_client_id_even_by_a_fresh_broker_and_an_unknown_id_is_none(fake, broker):
    intent = _intent("find", order_type=OrderType.LIMIT, limit_price=Decimal("40000"))
    placed = broker.submit_order(intent, NOW)
    restarted = _broker(fake, symbols=["BTC/USD", "ETH/USD"])
    found = restarted.get_order(intent.client_order_id)
    assert found is not None and found.broker_order_id == placed.broker_order_id
    assert restarted.get_order(ClientOrderId("tb-never-sent")) is None


def test_a_reused_client_id_of_an_open_order_raises_duplicate_and_lookup_finds_the_original(fake):
    broker = _broker(fake, lookup_before_submit=False)
    intent = _intent("dup", order_type=OrderType.LIMIT, limit_price=Decimal("40000"))
    original = broker.submit_order(intent, NOW)
    with pytest.raises(DuplicateClientOrderId, match=intent.client_order_id):
        broker.submit_order(intent, NOW)
    found = broker.get_order(intent.client_order_id)
    assert found is not None and found.broker_order_id == original.broker_order_id
    assert len(fake.orders_by_client_id()[intent.client_order_id]) == 1


def test_resubmitting_a_filled_order_returns_it_instead_of_buying_again(fake, broker):
    intent = _intent("again")
    first = broker.submit_order(intent, NOW)
    second = broker.submit_order(intent, NOW)
    assert second.broker_order_id == first.broker_order_id and fake.orders_created == 1


@pytest.mark.parametrize(("kind", "created"), [("accept_then_timeout", True), ("drop_after", True),
                                               ("status_unknown", True), ("drop_before", False),
                                               ("error_before", False), ("rate_limited", False), ("banned", False)])
def test_an_unknown_outcome_raises_unavailable_and_lookup_tells_whether_it_was_placed(fake, broker, kind, created):
    fake.fail(kind, delay=1.5, status=503)
    intent = _intent(kind.replace("_", "-"))
    with pytest.raises(BrokerUnavailable) as err:
        broker.submit_order(intent, NOW)
    assert intent.client_order_id in str(err.value) and "POST /api/v3/order" in str(err.value)
    assert fake.fault_counts[kind] == 1
    found = broker.get_order(intent.client_order_id)
    assert (found is not None) is created
    if created:
        assert found.status is OrderStatus.FILLED
    assert len(fake.orders_by_client_id().get(intent.client_order_id, [])) == int(created)


def test_a_read_waits_out_retry_after_then_succeeds(fake):
    waits: list[float] = []
    broker = _broker(fake, sleep=waits.append)
    fake.fail("rate_limited", path="/api/v3/account", method="GET", retry_after="2")
    assert broker.cash() == Decimal("100000")
    assert 2.0 in waits


def test_a_delayed_fill_is_reported_working_then_filled(fake, broker):
    fake.fail("delayed_fill", delay=0.2)
    intent = _intent("late")
    assert broker.submit_order(intent, NOW).status is OrderStatus.SUBMITTED
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while (order := broker.get_order(intent.client_order_id)).status is not OrderStatus.FILLED:
        assert datetime.now(UTC) < deadline, "the delayed fill never happened"
    assert order.filled_qty == Decimal("0.01")


def test_a_venue_rejection_carries_binance_code_and_message(fake, broker):
    order = broker.submit_order(_intent("big", "10"), NOW)
    assert order.status is OrderStatus.REJECTED
    assert order.reject_reason == "binance -2010: Account has insufficient balance for requested action."


def test_cancel_cancels_a_resting_order_and_returns_a_filled_one_unchanged(fake, broker):
    resting = _intent("c1", order_type=OrderType.LIMIT, limit_price=Decimal("40000"))
    broker.submit_order(resting, NOW)
    canceled = broker.cancel_order(resting.client_order_id, NOW)
    assert canceled.status is OrderStatus.CANCELED and fake.balance("USDT") == (Decimal("100000"), Decimal("0"))
    filled = broker.submit_order(_intent("c2"), NOW)
    assert broker.cancel_order(filled.client_order_id, NOW).status is OrderStatus.FILLED
    with pytest.raises(BrokerError, match="no such order"):
        broker.cancel_order(ClientOrderId("tb-unknown"), NOW)


def test_fills_since_returns_trades_with_client_ids_and_commission_in_quote(fake, broker):
    first = broker.submit_order(_intent("f1"), NOW)
    cutoff = datetime.now(UTC)
    fake.exchange.balances["ETH"] = [Decimal("1"), Decimal("0")]
    while datetime.now(UTC) <= cutoff + timedelta(milliseconds=2):
        pass  # trades are stamped in milliseconds: step past the cutoff
    second = broker.submit_order(_intent("f2", "0.5", Side.SELL, Symbol("ETH/USD")), NOW)
    fills = broker.fills_since(None)
    assert [f.client_order_id for f in fills] == [first.client_order_id, second.client_order_id]
    buy, sell = fills
    assert buy.fill_id == "BTCUSDT:1" and buy.commission == Decimal("0.01") * Decimal("0.001") * Decimal("50000")
    assert sell.commission == Decimal("0.5") * Decimal("3000") * Decimal("0.001")
    assert [f.client_order_id for f in broker.fills_since(cutoff)] == [second.client_order_id]
    # An old since pages every trade by id instead of scanning 24-hour windows; a future one finds none.
    assert [f.fill_id for f in broker.fills_since(cutoff - timedelta(days=30))] == [f.fill_id for f in fills]
    assert broker.fills_since(datetime.now(UTC) + timedelta(seconds=1)) == []


def test_positions_and_cash_follow_the_account_balances(fake, broker):
    broker.submit_order(_intent("pos", "0.02"), NOW)
    fake.set_price("BTCUSDT", "60000")
    broker.submit_order(_intent("pos2", "0.02"), NOW)
    [pos] = broker.positions()
    assert pos.symbol == BTC and pos.qty == Decimal("0.03996") and pos.avg_price == Decimal("55000")
    assert broker.cash() == Decimal("100000") - Decimal("1000") - Decimal("1200")


def test_a_skewed_clock_is_resynced_once_instead_of_rejecting_the_order(fake, broker):
    fake.clock_skew_ms = 20_000
    assert broker.submit_order(_intent("skew"), NOW).status is OrderStatus.FILLED


def test_order_posts_are_rate_limited_client_side(fake):
    waits: list[float] = []
    broker = _broker(fake, order_rate=2.0, sleep=waits.append, lookup_before_submit=False)
    for i in range(4):
        broker.submit_order(_intent(f"r{i}"), NOW)
    assert sum(waits) >= 0.9  # burst of 2, then 2 per second


def test_the_testnet_switch_points_orders_at_the_testnet(fake):
    testnet: Broker = BinanceBroker(KEY, SECRET, testnet=True)  # mypy checks the port here
    assert isinstance(testnet, BinanceBroker) and testnet.api_url == "https://testnet.binance.vision/api"
    assert BinanceBroker(KEY, SECRET).api_url == "https://api.binance.com/api"
    assert _broker(fake, testnet=True).api_url == f"{fake.base_url}/api"


def test_a_wrong_secret_is_a_credentials_error_and_no_secret_reaches_messages_or_logs(fake, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = BinanceBroker(KEY, "another-canary-secret-99", rest_url=fake.base_url, timeout=0.5)
    with pytest.raises(BrokerError, match="credentials") as err:
        wrong.submit_order(_intent("auth"), NOW)
    messages = [str(err.value)]
    for kind in ("accept_then_timeout", "error_before", "drop_before"):
        fake.fail(kind, delay=1.5)
        with pytest.raises(BrokerUnavailable) as unavailable:
            _broker(fake, lookup_before_submit=False).submit_order(_intent(kind), NOW)
        messages.append(str(unavailable.value))
    text = "\n".join(messages + [r.getMessage() for r in caplog.records])
    assert SECRET not in text and "another-canary-secret-99" not in text
    assert all("signature=" not in m and KEY not in m for m in messages)


def test_seeded_chaos_never_places_an_order_twice_when_each_retry_looks_up_first(fake, broker):
    fake.chaos(seed=7, rate=0.5, kinds=("accept_then_timeout", "drop_before", "drop_after", "error_before"))
    fake.fault_counts.clear()
    ids = []
    for i in range(8):
        intent = _intent(f"chaos{i}", "0.001")
        ids.append(intent.client_order_id)
        for _ in range(10):
            if broker.get_order(intent.client_order_id) is not None:
                break
            try:
                broker.submit_order(intent, NOW)
                break
            except BrokerUnavailable:
                continue
    placed = fake.orders_by_client_id()
    assert sum(fake.fault_counts.values()) > 0
    assert all(len(placed[cid]) == 1 for cid in ids)


def test_the_fake_stops_itself_after_its_max_lifetime():
    with FakeBinanceSpotServer(KEY, SECRET, max_lifetime=0.3) as fake:
        broker = _broker(fake)
        assert broker.cash() == Decimal("100000")
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while True:
            try:
                broker.cash()
            except BrokerUnavailable:
                break
            assert datetime.now(UTC) < deadline, "the fake outlived its max lifetime"


def test_symbols_map_through_the_quote_map_or_explicit_entries_and_a_stock_is_refused(fake):
    broker = _broker(fake, symbol_map={"XBT/USD": "BTCUSDT"})
    assert broker.symbols.pair("eth/usd") == "ETHUSDT" and broker.symbols.pair("ETH/BTC") == "ETHBTC"
    order = broker.submit_order(_intent("xbt", symbol=Symbol("XBT/USD")), NOW)
    assert order.status is OrderStatus.FILLED and order.symbol == "XBT/USD"
    stock = broker.submit_order(_intent("aapl", "1", symbol=Symbol("AAPL")), NOW)
    assert stock.status is OrderStatus.REJECTED and "crypto pairs like BTC/USD" in stock.reject_reason
    unlisted = broker.submit_order(_intent("doge", "100", symbol=Symbol("DOGE/USD")), NOW)
    assert unlisted.status is OrderStatus.REJECTED and "does not list DOGEUSDT" in unlisted.reject_reason
