"""Benchmark ingestion: 500 symbols x 390 one-minute bars from FakeAlpacaServer, fetched and validated.

Run: .venv/bin/python bench/bench_ingest.py [--symbols 500] [--bars 390] [--workers 8] [--chunk 50]
Prints bars/s overall, the share of time spent in validate_bars, and concurrent vs sequential fetch.
The fake runs in its own process so its JSON encoding does not compete with the client for the GIL.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests.fakes` lives beside the package

from tests.fakes.alpaca_rest import FakeAlpacaServer, minute_bars  # noqa: E402
from tradebot.adapters.alpaca_data import AlpacaPriceFeed  # noqa: E402
from tradebot.adapters.http import Politeness, RateLimit, RetryPolicy  # noqa: E402
from tradebot.quality import validate_bars  # noqa: E402
from tradebot.quality.gx_runner import warm_up  # noqa: E402

SESSION_OPEN = datetime(2024, 7, 1, 13, 30, tzinfo=UTC)
SERVE_AT_MOST = 600.0  # seconds; the fake process stops by itself after this


def serve(conn, symbols: int, bars: int, fake_limit: int) -> None:
    """Run FakeAlpacaServer with symbols x bars until told to stop (or SERVE_AT_MOST passes)."""
    book = {f"S{i:04d}": minute_bars(SESSION_OPEN, bars, 50.0 + i % 400, seed=i) for i in range(symbols)}
    with FakeAlpacaServer(stock_bars=book, rate_limit_per_minute=fake_limit) as fake:
        conn.send(fake.base_url)
        conn.poll(SERVE_AT_MOST)
        conn.send({"requests": len(fake.requests), "throttled": fake.throttled})


def fetch(base_url: str, symbols: list[str], bars: int, workers: int, chunk: int, per_minute: float):
    """Fetch every symbol's session through a fresh feed (no cache) and return (frame, seconds)."""
    politeness = Politeness(RateLimit("alpaca", per_minute, burst=max(1.0, per_minute / 10)),
                            RetryPolicy(timeout=(3.05, 60.0)), cache=None)
    feed = AlpacaPriceFeed(base_url, "bench-key", "bench-secret", lambda: SESSION_OPEN + timedelta(days=1),
                           politeness=politeness, symbols_per_request=chunk, max_workers=workers)
    started = time.perf_counter()
    frame = feed.request_bars(symbols, SESSION_OPEN, SESSION_OPEN + timedelta(minutes=bars))
    return frame, time.perf_counter() - started


def main() -> None:
    """Serve the bars, fetch them concurrently and sequentially, validate, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--bars", type=int, default=390)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=50, help="symbols per request")
    parser.add_argument("--rate", type=float, default=200.0, help="client requests per minute (Alpaca: 200)")
    parser.add_argument("--fake-limit", type=int, default=1000, help="requests per minute the fake accepts")
    args = parser.parse_args()

    started = time.perf_counter()
    warm_up()  # GX import + context: once per process, reported apart
    print(f"GX import + ephemeral context: {time.perf_counter() - started:.2f} s (once per process)")
    symbols = [f"S{i:04d}" for i in range(args.symbols)]
    ours, theirs = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(target=serve, args=(theirs, args.symbols, args.bars, args.fake_limit),
                                             daemon=True)
    server.start()
    try:
        if not ours.poll(120):
            raise SystemExit("fake server did not start within 120 s")
        base_url = ours.recv()
        validate_bars(fetch(base_url, symbols[:2], args.bars, 1, args.chunk, args.rate)[0], batch="warm")
        frame, fetch_s = fetch(base_url, symbols, args.bars, args.workers, args.chunk, args.rate)
        seq_frame, seq_s = fetch(base_url, symbols, args.bars, 1, args.chunk, args.rate)
        ours.send("stop")
        stats = ours.recv() if ours.poll(30) else {"requests": "?", "throttled": "?"}
    finally:
        server.join(timeout=30)
        if server.is_alive():
            server.terminate()  # only the process this bench started
    started = time.perf_counter()
    outcome = validate_bars(frame, batch="bench", now=SESSION_OPEN + timedelta(days=1))
    validate_s = time.perf_counter() - started

    rows, total = len(frame), fetch_s + validate_s
    assert rows == args.symbols * args.bars == len(seq_frame), (rows, len(seq_frame))
    print(f"bars: {rows:,} ({args.symbols} symbols x {args.bars}); {args.chunk} symbols/request, "
          f"client limit {args.rate:.0f}/min; fake saw {stats['requests']} requests, "
          f"answered {stats['throttled']} with 429")
    print(f"fetch ({args.workers} workers): {fetch_s:.2f} s = {rows / fetch_s:,.0f} bars/s")
    print(f"fetch (1 worker) : {seq_s:.2f} s = {rows / seq_s:,.0f} bars/s  -> concurrent is {seq_s / fetch_s:.1f}x")
    print(f"validate_bars    : {validate_s:.2f} s = {rows / validate_s:,.0f} bars/s, "
          f"quarantined {len(outcome.quarantined)}")
    print(f"overall          : {total:.2f} s = {rows / total:,.0f} bars/s (fetch + validate); "
          f"validation share {validate_s / total:.0%}")


if __name__ == "__main__":
    main()
