"""Benchmark the stop sentinel's tick path against a local Alpaca-protocol (msgpack) server in another process.

On one connection through the sentinel's Alpaca feed (alpaca-py connection, auth and subscribe; our consumer):
1. baseline: receive and parse at saturation, trades handed to a no-op;
2. saturation: receive, parse, check against the bands, ratchet/hit and re-arm (the engine);
3. paced: 10k msgs/s, every 20th trade crosses a stop (and is re-armed); latency = exit dispatch start - trade
   time stamped by the server at send (same machine clock).
The last line printed is one JSON object: ticks_per_s, baseline_ticks_per_s, p50_ms, p99_ms.

Each phase runs --rounds times, alternating, and the best round is reported (every round is printed).
Run: .venv/bin/python bench/bench_sentinel.py [--symbols 500] [--ticks 1000000] [--batch 50] [--rate 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgpack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from risk.stops import initial_levels  # noqa: E402
from risk.types import RiskPolicy  # noqa: E402
from tradebot.domain import Direction, Symbol  # noqa: E402
from tradebot.sentinel.engine import SentinelEngine, freeze_heap  # noqa: E402
from tradebot.sentinel.feeds import AlpacaTradeFeed  # noqa: E402
from tradebot.sentinel.levels import Hit, LevelBook, Watched  # noqa: E402

PATH = "/v2/iex"
T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _trade(sym: str, price: float, i: int, ts_ns: int) -> dict:
    return {"T": "t", "S": sym, "i": i, "x": "V", "p": price, "s": 100, "t": msgpack.Timestamp.from_unix_nano(ts_ns),
            "c": ["@"], "z": "C"}


def _walk(symbols: list[str], n: int, seed: int) -> list[tuple[str, float]]:
    """Return n (symbol, price) trades: a walk around 100 that ratchets trails now and then and hits rarely."""
    rng = random.Random(seed)
    px = dict.fromkeys(symbols, 100.0)
    out = []
    for i in range(n):
        s = symbols[i % len(symbols)]
        px[s] = min(max(px[s] * (1 + rng.gauss(0, 0.0015)), 97.0), 104.0)
        out.append((s, round(px[s], 4)))
    return out


async def _serve(port_q: mp.Queue, symbols: list[str], ticks: int, batch: int, rate: int, paced: int) -> None:
    from websockets.asyncio.server import serve

    walk, now = _walk(symbols, ticks, 1), time.time_ns()
    # Packed up front so the server is never the bottleneck of the saturation phases.
    frames = [msgpack.packb([_trade(s, p, k + j, now) for j, (s, p) in enumerate(walk[k:k + batch])])
              for k in range(0, len(walk), batch)]

    async def handle(conn) -> None:  # type: ignore[no-untyped-def]
        await conn.send(msgpack.packb([{"T": "success", "msg": "connected"}]))
        async for raw in conn:
            msg = msgpack.unpackb(raw)
            act = msg.get("action")
            if act == "auth":
                await conn.send(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
            elif act == "subscribe":
                await conn.send(msgpack.packb([{"T": "subscription", "trades": msg.get("trades", [])}]))
            elif act == "bench_saturate":
                for frame in frames:
                    await conn.send(frame)
            elif act == "bench_paced":
                start, interval = time.perf_counter(), 1.0 / rate
                sent = 0
                while sent < paced:
                    due = min(paced, int((time.perf_counter() - start) / interval) + 1)
                    while sent < due:
                        sym = symbols[sent % len(symbols)]
                        price = 95.0 if sent % 20 == 19 else 100.0  # every 20th trade crosses the 96 stop
                        await conn.send(msgpack.packb([_trade(sym, price, sent, time.time_ns())]))
                        sent += 1
                    await asyncio.sleep(max(0.0, start + sent * interval - time.perf_counter()))

    async with serve(handle, "127.0.0.1", 0, max_size=2**24, write_limit=2**20) as server:
        port_q.put(next(iter(server.sockets)).getsockname()[1])
        await asyncio.sleep(600)


def _server_main(port_q: mp.Queue, *args: int | list[str]) -> None:
    asyncio.run(_serve(port_q, *args))  # type: ignore[arg-type]


def _book(symbols: list[str]) -> LevelBook:
    policy = RiskPolicy(stop_atr=2.0, take_profit_atr=4.0, trail_atr=3.0, max_holding_days=None)
    book = LevelBook()
    book.replace_all(Watched("bench", Symbol(s), Decimal(10), lv) for s in symbols
                     if (lv := initial_levels(Symbol(s), Direction.LONG, Decimal(100), 2.0, T0, policy)) is not None)
    return book


async def _until(pred, timeout: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError("bench timed out waiting for the server")
        await asyncio.sleep(0.001)


async def run(args: argparse.Namespace, port: int) -> dict[str, float]:
    symbols = [f"S{i:04d}" for i in range(args.symbols)]
    counted = [0]

    def null(sym, price, stamp, fn) -> None:  # type: ignore[no-untyped-def]
        counted[0] += 1

    feed = AlpacaTradeFeed("bench", False, f"ws://127.0.0.1:{port}{PATH}", "k", "s", null)
    await feed.set_symbols(symbols)
    await _until(lambda: feed.status.connected and feed._stream is not None and feed._stream._running, 10)
    stream = feed._stream
    assert stream is not None

    async def saturate(handler, count: Callable[[], int]) -> float:
        stream.on_trade = handler
        start = count()
        await stream._ws.send(msgpack.packb({"action": "bench_saturate"}))
        return args.ticks / await _timed(lambda: count() - start >= args.ticks)

    loop = asyncio.get_running_loop()
    latencies: list[float] = []

    def engine_for(book: LevelBook) -> SentinelEngine:
        def dispatch(hit: Hit) -> asyncio.Future[None]:
            # The dispatch moment: what an exit path hands to its worker thread is decided here.
            latencies.append((time.time_ns() - int(hit.ts.timestamp() * 1e9)) / 1e6)
            book.rearm(hit.position)  # so the same position can hit again later in the run
            done = loop.create_future()
            done.set_result(None)
            return done
        return SentinelEngine(book, dispatch)

    freeze_heap()  # as the sentinel does once it is built; before every phase so they compare fairly
    # Alternate the two phases on the same connection and keep each one's best round: on a shared machine
    # the worst rounds measure the neighbours, not this code.
    base_runs, eng_runs = [], []
    for _ in range(args.rounds):
        base_runs.append(await saturate(null, lambda: counted[0]))
        engine = engine_for(_book(symbols))
        eng_runs.append(await saturate(engine.on_trade, lambda e=engine: e.ticks))
    baseline, ticks_per_s = max(base_runs), max(eng_runs)

    paced = []
    for _ in range(args.rounds):
        latencies.clear()
        engine = engine_for(_book(symbols))
        await stream._ws.send(msgpack.packb({"action": "bench_paced"}))
        stream.on_trade = engine.on_trade
        await _timed(lambda e=engine: e.ticks >= args.paced)
        await engine.drain()
        lat = sorted(latencies)
        paced.append((lat[min(len(lat) - 1, int(0.99 * len(lat)))], statistics.median(lat), len(lat)))
    await feed.close()
    p99, p50, hits = min(paced)
    print(f"baseline (receive+parse, no-op handler): {baseline:,.0f} ticks/s over {args.ticks:,} ticks "
          f"(rounds: {', '.join(f'{r:,.0f}' for r in base_runs)})")
    print(f"sentinel (receive+parse+check+update):   {ticks_per_s:,.0f} ticks/s "
          f"(rounds: {', '.join(f'{r:,.0f}' for r in eng_runs)})")
    print(f"ratio sentinel/baseline: {ticks_per_s / baseline:.2f}")
    print(f"paced {args.rate:,}/s: {hits} exits dispatched per round, tick-to-dispatch p50 {p50:.3f} ms, "
          f"p99 {p99:.3f} ms (p99 per round: {', '.join(f'{r[0]:.3f}' for r in paced)})")
    goals = ticks_per_s >= 100_000 and p99 <= 1.0
    print(f"goals (>= 100k ticks/s, p99 <= 1 ms): {'met' if goals else 'NOT met'}")
    return {"ticks_per_s": round(ticks_per_s), "baseline_ticks_per_s": round(baseline), "p50_ms": round(p50, 4),
            "p99_ms": round(p99, 4)}


async def _timed(done) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not done():
        await asyncio.sleep(0.001)
        if time.perf_counter() - start > 120:
            raise TimeoutError("bench phase did not finish in 120 s")
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=500)
    p.add_argument("--ticks", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=50, help="trades per frame at saturation (Alpaca sends arrays)")
    p.add_argument("--rate", type=int, default=10_000)
    p.add_argument("--paced", type=int, default=30_000, help="trades in the paced phase")
    p.add_argument("--rounds", type=int, default=3, help="rounds of each phase; the best one is reported")
    args = p.parse_args()
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    symbols = [f"S{i:04d}" for i in range(args.symbols)]
    server = ctx.Process(target=_server_main, args=(q, symbols, args.ticks, args.batch, args.rate, args.paced),
                         daemon=True)
    server.start()
    try:
        port = q.get(timeout=60)
        result = asyncio.run(run(args, port))
    finally:
        server.terminate()
        server.join(5)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
