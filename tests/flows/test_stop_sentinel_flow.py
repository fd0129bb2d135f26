"""The stop_sentinel flow from Settings: Alpaca keys, fakes for data stream, REST and trading; one real exit."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

from sqlalchemy import select

from tests.fakes.alpaca_rest import FakeAlpacaServer
from tests.fakes.alpaca_stream import CRYPTO_PATH, FakeAlpacaStreamServer, trade
from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
from tests.integration.sentinel_support import ACCOUNT, levels, open_position
from tradebot.adapters.alpaca_broker import AlpacaBroker
from tradebot.sentinel.positions import exit_client_order_id
from tradebot.store.ops import AlertRow

KEY, SECRET = "AKFLOWSENTINEL", "flow-sentinel-secret"
SYM = "ETH/USD"


def _rest_trade(price: float) -> dict:
    return {"t": "2026-11-24T10:00:00Z", "x": "V", "p": price, "s": 1, "c": ["@"], "i": 1, "z": "C"}


def test_the_flow_exits_a_position_whose_stop_a_live_trade_crosses_and_records_the_alert(ledger_url):
    from flows.stop_sentinel import stop_sentinel
    from tradebot.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(ledger_url))  # this test's own ledger (the flows' `sessions` is shared)
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as fake, \
            FakeAlpacaStreamServer(KEY, SECRET, max_lifetime=60) as stream, \
            FakeAlpacaServer(latest_trades={SYM: _rest_trade(3000.0)}) as rest:
        fake.set_price(SYM, "3000")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0, sleep=lambda s: None)
        lv = levels(SYM, "3000", 20.0, tp=None)  # stop 2,960
        open_position(sessions, broker, SYM, "2", lv)

        def cross() -> None:
            end = time.monotonic() + 20
            # Cross only once the sentinel is subscribed and has put the broker-side stop on the bare position.
            while (stream.subscribed(CRYPTO_PATH) != {SYM} or not broker.open_orders()) and time.monotonic() < end:
                time.sleep(0.02)
            stream.publish([trade(SYM, 2990.0), trade(SYM, 2955.0)], CRYPTO_PATH)

        t = threading.Thread(target=cross, daemon=True)
        t.start()
        overrides = {
            "mode": "alpaca-paper", "database_url": ledger_url, "paper": {"account": ACCOUNT},
            "alpaca": {"key_id": KEY, "secret_key": SECRET, "trading_url": fake.base_url, "data_url": rest.base_url},
            "sentinel": {"alpaca_stream_url": stream.url, "alpaca_stocks": False, "metrics_port": 0,
                         "refresh_seconds": 0.2, "health_interval_seconds": 0.05, "protect_check_seconds": 0.3},
        }
        summary = asyncio.run(stop_sentinel(overrides=overrides, run_for_seconds=4))
        t.join(5)
        assert summary["exits"] == 1 and summary["ticks"] >= 2 and summary["accounts"] == [ACCOUNT]
        assert summary["protective_orders_placed"] == 1  # the bare position got its broker-side stop first
        cid = exit_client_order_id(ACCOUNT, lv)
        [order] = fake.orders_by_client_id()[cid]
        assert order["side"] == "sell" and order["qty"] == "2" and order["status"] == "filled"
        assert broker.positions() == [] and broker.open_orders() == []
        with sessions() as s:
            alerts = s.scalars(select(AlertRow).where(AlertRow.kind == "stop_triggered")).all()
        assert [a.key for a in alerts] == [f"stop_triggered:{SYM}"]
        assert Decimal(alerts[0].payload["event"]["stop_price"]) == Decimal("2960")
