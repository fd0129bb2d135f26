"""Metrics: one dedicated registry whose exposition names every tradebot and process metric."""

import requests

from tradebot.metrics import Metrics, start_metrics_server

NAMES = (
    "tradebot_equity_dollars", "tradebot_daily_pnl_dollars", "tradebot_orders_total", "tradebot_fills_total",
    "tradebot_last_flow_success_timestamp_seconds", "tradebot_flow_duration_seconds",
    "tradebot_last_feed_update_timestamp_seconds", "tradebot_feed_staleness_seconds", "tradebot_errors_total",
    "tradebot_alerts_sent_total", "process_cpu_seconds_total", "process_resident_memory_bytes",
)


def test_the_exposition_contains_every_metric_name():
    m = Metrics()
    m.equity.labels(account="paper-main").set(100_000)
    m.orders.labels(status="filled").inc()
    m.error("ingest")
    text = m.render()
    for name in NAMES:
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert 'tradebot_equity_dollars{account="paper-main"} 100000.0' in text
    assert 'tradebot_errors_total{stage="ingest"} 1.0' in text


def test_feed_staleness_is_computed_from_the_clock_at_scrape_time():
    now = [1_000.0]
    m = Metrics(clock=lambda: now[0], process=False)
    m.feed_updated("alpaca-stocks")
    now[0] += 42
    assert m.registry.get_sample_value("tradebot_feed_staleness_seconds", {"feed": "alpaca-stocks"}) == 42
    m.feed_updated("alpaca-stocks")
    assert m.registry.get_sample_value("tradebot_feed_staleness_seconds", {"feed": "alpaca-stocks"}) == 0


def test_two_metrics_objects_do_not_share_counts():
    a, b = Metrics(process=False), Metrics(process=False)
    a.alert("slack", "sent")
    assert b.registry.get_sample_value("tradebot_alerts_sent_total", {"channel": "slack", "outcome": "sent"}) is None


def test_the_metrics_server_serves_the_exposition_on_localhost():
    m = Metrics(process=False)
    m.flow_succeeded("trade_cycle", duration_seconds=1.5)
    server, thread = start_metrics_server(0, metrics=m)
    try:
        resp = requests.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert resp.status_code == 200 and 'tradebot_flow_duration_seconds_count{flow="trade_cycle"} 1.0' in resp.text
