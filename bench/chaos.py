"""Chaos test of the exactly-once order path: faulty fake Alpaca and Binance, a worker killed mid-run, reconciliation.

Run: .venv/bin/python -m bench.chaos [--intents 1000] [--seed 1] [--fault-rate 0.2] [--kills 2]
Prints `duplicates=0 lost=0 drift=0 faults=<by kind> orders=<n> seconds=<t>` and a JSON line; exits 1 on any
duplicate (a client id placed twice at a venue), loss (an intent with neither a venue order nor a recorded
refusal, or a venue order the ledger does not know) or drift (ledger order status, filled quantity, fills or
positions differing from the venue after reconciliation).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.chaos_score import score
from bench.chaos_worker import (
    ALPACA_KEY,
    ALPACA_SECRET,
    BINANCE_KEY,
    BINANCE_SECRET,
    CHAOS_EXECUTION,
    EventConsumer,
    brokers,
)

ROOT = Path(__file__).resolve().parents[1]
STOCKS = {"AAPL": "190", "MSFT": "410", "NVDA": "120", "KO": "62", "JPM": "200"}
PAIRS = {"BTC/USD": ("BTCUSDT", "50000", "0.001"), "ETH/USD": ("ETHUSDT", "3000", "0.01")}
ALPACA_FAULTS = ("accept_then_timeout", "error_before", "error_after", "rate_limited", "drop_before", "drop_after")


@dataclass(frozen=True)
class Chaos:
    """One chaos run's parameters."""

    intents: int = 1000
    seed: int = 1
    fault_rate: float = 0.2
    kills: int = 2
    deadline: float = 900.0


def market_clock(real: datetime) -> datetime:
    """Return the clock the run trades at: 30 minutes into the next NYSE session, so stock orders may go out."""
    from tradebot.execution.market_hours import next_open

    opened = next_open(real - timedelta(hours=7)) or real
    return opened + timedelta(minutes=30)


def run(c: Chaos, workdir: Path | None = None) -> dict[str, Any]:
    """Run one chaos round and return its summary (duplicates, lost, drift, faults, orders, seconds...)."""
    from tests.fakes.alpaca_trading import FakeAlpacaTradingServer
    from tests.fakes.binance_spot import FakeBinanceSpotServer

    started = time.monotonic()
    rng = random.Random(c.seed)
    work = Path(workdir or tempfile.mkdtemp(prefix="chaos-"))
    url = f"sqlite:///{work / 'ledger.db'}"
    run_id = f"chaos-{c.seed}"
    now = market_clock(datetime.now(UTC))
    # No duplicate-id guard at the venue: only the submitter's lookups stand between a retry and a second order.
    alpaca = FakeAlpacaTradingServer(ALPACA_KEY, ALPACA_SECRET, cash=Decimal("10000000"), max_lifetime=c.deadline,
                                     enforce_unique_client_ids=False)
    # Zero commission: Binance takes a buy's fee from the base asset, which the ledger books in quote (see report).
    binance = FakeBinanceSpotServer(BINANCE_KEY, BINANCE_SECRET, balances={"USDT": "10000000"}, commission_rate="0",
                                    max_lifetime=c.deadline)
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        phases[name] = round(time.monotonic() - started - sum(phases.values()), 1)

    with alpaca, binance:
        _arm(alpaca, binance, c, rng)
        sessions = _ledger(url, run_id, now, _intents(c, rng, run_id))
        streams = _streams(alpaca, binance)
        with EventConsumer(sessions, run_id, streams) as consumer:
            _wait(lambda: alpaca.listening() >= 1 and binance.subscribers() >= 1, 15, "order streams to connect")
            lap("setup")
            kills, restarts = _run_worker(c, rng, url, run_id, alpaca, binance, now, sessions)
            lap("worker")
            _settle(alpaca, binance, consumer)
            lap("settle")
        venues = brokers(alpaca.base_url, binance.base_url)
        from tradebot.execution.converge import reconcile_broker

        reports = {n: reconcile_broker(sessions, run_id, b, now, CHAOS_EXECUTION).summary()
                   for n, b in venues.items()}
        lap("reconcile")
        result = score(sessions, run_id, venues, {"alpaca": alpaca.orders_by_client_id(),
                                                  "binance": binance.orders_by_client_id()})
        faults = Counter({f"alpaca.{k}": v for k, v in alpaca.faults_injected.items()})
        faults.update({f"binance.{k}": v for k, v in binance.fault_counts.items()})
        faults.update({"worker_killed": kills, "streams_dropped": 2})
        orders = alpaca.orders_created + binance.orders_created
    return {**result, "faults": dict(sorted(faults.items())), "faults_total": sum(faults.values()),
            "orders": orders, "intents": c.intents, "seed": c.seed, "restarts": restarts,
            "events": dict(consumer.received), "event_duplicates": consumer.duplicates,
            "events_stale": consumer.stale, "consumer_errors": consumer.errors[:5], "reconcile": reports,
            "phases": phases, "seconds": round(time.monotonic() - started, 1)}


def _arm(alpaca: Any, binance: Any, c: Chaos, rng: random.Random) -> None:
    for sym, price in STOCKS.items():
        alpaca.set_price(sym, price)
    for pair, price, _qty in PAIRS.values():
        binance.set_price(pair, price)
    alpaca.delay_fills(0.3)  # fills arrive after the submit reply, as they do in a real market
    alpaca.random_faults({k: c.fault_rate / len(ALPACA_FAULTS) for k in ALPACA_FAULTS}, seed=c.seed)
    alpaca.random_stream_faults({"duplicate": 0.1, "reorder": 0.1}, seed=c.seed + 1)
    binance.chaos(c.seed + 2, c.fault_rate)
    binance.stream_fault("duplicate", max(1, c.intents // 20))
    binance.stream_fault("reorder", max(1, c.intents // 20))


def _intents(c: Chaos, rng: random.Random, run_id: str) -> list[Any]:
    from tradebot.domain import OrderIntent, OrderType, Side, Symbol, make_client_order_id

    out = []
    for i in range(c.intents):
        crypto = rng.random() < 0.5
        sym = rng.choice(list(PAIRS) if crypto else list(STOCKS))
        price = Decimal(PAIRS[sym][1] if crypto else STOCKS[sym])
        qty = Decimal(PAIRS[sym][2]) if crypto else Decimal(rng.randint(1, 3))
        kind = rng.random()
        # Mostly market orders; some marketable limits (fill) and some far below the market (stay working).
        otype, limit = OrderType.MARKET, None
        if kind > 0.9:
            otype, limit = OrderType.LIMIT, (price * Decimal("0.5")).quantize(Decimal("0.01"))
        elif kind > 0.8:
            otype, limit = OrderType.LIMIT, (price * Decimal("1.01")).quantize(Decimal("0.01"))
        cid = make_client_order_id("chaos", sym, f"{run_id}:{i}", "entry")
        out.append(OrderIntent(cid, "chaos", Symbol(sym), Side.BUY, qty, datetime.now(UTC), order_type=otype,
                               limit_price=limit, reference_price=price, reason=f"chaos intent {i}"))
    return out


def _ledger(url: str, run_id: str, now: datetime, intents: list[Any]) -> Any:
    from tradebot.domain import RiskDecision, Verdict
    from tradebot.store import ledger
    from tradebot.store.db import make_engine, session_factory, transaction, upgrade

    upgrade(url)
    sessions = session_factory(make_engine(url))
    with transaction(sessions) as s:
        ledger.ensure_run(s, run_id, "chaos", "paper", Decimal("10000000"), now)
        for it in intents:
            ledger.record_proposal(s, run_id, f"{run_id}:chaos", it, RiskDecision(
                it.client_order_id, Verdict.ACCEPTED, it.qty, it.qty, ("chaos",)), None, now)
    return sessions


def _streams(alpaca: Any, binance: Any) -> dict[str, Any]:
    from tradebot.adapters.alpaca_stream import AlpacaOrderStream
    from tradebot.adapters.binance_stream import BinanceOrderStream

    return {"alpaca": AlpacaOrderStream(ALPACA_KEY, ALPACA_SECRET, alpaca.stream_url, stop_timeout=2.0),
            "binance": BinanceOrderStream(BINANCE_KEY, BINANCE_SECRET, rest_url=binance.base_url,
                                          ws_api_url=binance.ws_api_url, reconnect_delay=0.2)}


def _run_worker(c: Chaos, rng: random.Random, url: str, run_id: str, alpaca: Any, binance: Any, now: datetime,
                sessions: Any) -> tuple[int, int]:
    """Run the worker, SIGKILL it at seeded points of progress, restart it; return (kills, restarts)."""
    points = sorted(rng.uniform(0.1 + 0.7 * k / c.kills, 0.1 + 0.7 * (k + 1) / c.kills) for k in range(c.kills))
    targets = [int(p * c.intents) for p in points]
    cmd = [sys.executable, "-m", "bench.chaos_worker", "--ledger", url, "--run", run_id, "--alpaca",
           alpaca.base_url, "--binance", binance.base_url, "--now", now.isoformat()]
    kills = restarts = 0
    deadline = time.monotonic() + c.deadline
    dropped = False
    while True:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)})
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chaos worker still running after {c.deadline:.0f} s")
                done = _processed(sessions, run_id)
                if not dropped and done >= c.intents // 2:
                    alpaca.drop_stream_connections()  # events sent while the streams are down are lost
                    binance.disconnect_streams()
                    dropped = True
                if kills < len(targets) and done >= targets[kills]:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    break
                time.sleep(0.02)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out, err = proc.communicate()
        if proc.returncode == 0:
            return kills, restarts
        if proc.returncode != -signal.SIGKILL:
            raise RuntimeError(f"chaos worker failed with status {proc.returncode}: {err.strip()[-2000:]}")
        restarts += 1


def _processed(sessions: Any, run_id: str) -> int:
    from sqlalchemy import func, select

    from tradebot.store.trading import OrderIntentRow

    with sessions() as s:
        return s.scalar(select(func.count()).select_from(OrderIntentRow).where(
            OrderIntentRow.run_id == run_id, OrderIntentRow.status != "pending")) or 0


def _settle(alpaca: Any, binance: Any, consumer: EventConsumer) -> None:
    """Wait for delayed fills to happen and for the streams to go quiet."""
    def quiet() -> bool:
        working = [o for olist in alpaca.orders_by_client_id().values() for o in olist
                   if o.get("type") == "market" and o.get("status") in ("new", "accepted", "pending_new")]
        working += [o for olist in binance.orders_by_client_id().values() for o in olist
                    if o.get("type") == "MARKET" and o.get("status") == "NEW"]
        return not working and time.monotonic() - consumer.last_event > 0.5

    _wait(quiet, 60, "delayed fills and the order streams to settle")


def _wait(cond: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting {seconds:.0f} s for {what}")
        time.sleep(0.05)


def summary_line(r: dict[str, Any]) -> str:
    """Return the one-line verdict."""
    faults = ",".join(f"{k}:{v}" for k, v in r["faults"].items())
    return (f"duplicates={r['duplicates']} lost={r['lost']} drift={r['drift']} faults={r['faults_total']}({faults}) "
            f"orders={r['orders']} seconds={r['seconds']}")


def main(argv: list[str] | None = None) -> int:
    """Run the chaos test from the command line; exit 1 on any duplicate, loss or drift."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--intents", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fault-rate", type=float, default=0.2)
    p.add_argument("--kills", type=int, default=2)
    args = p.parse_args(argv)
    # The adapters warn on every reconnect and retry; under chaos that is expected, the verdict is what matters.
    logging.basicConfig(level=logging.ERROR)
    r = run(Chaos(args.intents, args.seed, args.fault_rate, args.kills))
    print(summary_line(r))
    print(json.dumps(r, default=str))
    return 1 if r["duplicates"] or r["lost"] or r["drift"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
