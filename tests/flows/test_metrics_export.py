"""The long-lived processes export the ledger's and Prefect's state as Prometheus metrics at scrape time."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tradebot.metrics_ledger import LedgerCollector, PrefectRunsCollector
from tradebot.store.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parents[2]


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def _scrape(*collectors) -> dict[tuple[str, tuple], float]:
    registry = CollectorRegistry()
    for c in collectors:
        registry.register(c)
    return _samples(generate_latest(registry).decode())


def test_the_ledger_collector_reports_the_accounts_equity_orders_and_fills(replayed, sessions):
    _, _, latest = replayed
    acct = latest["run_id"]
    got = _scrape(LedgerCollector(sessions, acct))
    assert got[("tradebot_ledger_up", ())] == 1
    assert got[("tradebot_ledger_equity_dollars", (("account", acct),))] == float(latest["final_equity"])
    orders = sum(v for (name, labels), v in got.items() if name == "tradebot_ledger_orders")
    assert orders == latest["orders"]
    assert got[("tradebot_ledger_fills_total", (("account", acct),))] == latest["fills"]
    assert got[("tradebot_ledger_open_positions", (("account", acct),))] == latest["open_positions"]


def test_scrapes_within_the_ttl_reuse_one_ledger_read(replayed, sessions):
    now = [0.0]
    collector = LedgerCollector(sessions, replayed[2]["run_id"], ttl=5.0, clock=lambda: now[0])
    first = _scrape(collector)
    bogus = LedgerCollector(session_factory(make_engine("sqlite:////nonexistent/dir/ledger.db")), "x",
                            ttl=5.0, clock=lambda: now[0])
    assert _scrape(bogus)[("tradebot_ledger_up", ())] == 0
    now[0] = 4.9
    assert _scrape(collector) == first


def test_an_unreadable_ledger_is_reported_as_down_not_raised():
    sessions = session_factory(make_engine("sqlite:////nonexistent/dir/ledger.db"))
    got = _scrape(LedgerCollector(sessions, "paper-main"))
    assert got == {("tradebot_ledger_up", ()): 0.0}


def test_flow_runs_are_counted_by_flow_and_final_state_from_the_prefect_api(replayed):
    got = _scrape(PrefectRunsCollector())
    assert got[("tradebot_prefect_api_up", ())] == 1
    assert got[("tradebot_flow_runs", (("flow", "replay"), ("state", "completed")))] >= 2


def test_tradebot_metrics_serve_exports_the_ledger_over_http(replayed):
    url, _, latest = replayed
    env = {**os.environ, "TRADEBOT_DATABASE_URL": url, "TRADEBOT_PAPER__ACCOUNT": latest["run_id"]}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("tradebot")), "metrics", "serve", "--metrics-port", "0",
                             "--no-prefect-runs"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r":(\d+)/metrics", line).group(1))
        deadline = time.monotonic() + 30
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "metrics endpoint never answered"
                time.sleep(0.1)
        got = _samples(body)
        assert got[("tradebot_ledger_equity_dollars", (("account", latest["run_id"]),))] == float(
            latest["final_equity"])
        assert any(name == "process_resident_memory_bytes" for name, _ in got)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
