"""Every dashboard page renders a replayed ledger for a logged-in viewer; nothing but the login page without one."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.flows.dashboard_helpers import APP, add_users, copy_ledger, login, page, start

PAGES = ["overview", "positions", "orders", "signals", "market", "performance", "quality", "runs", "alerts", "audit",
         "health", "controls"]


@pytest.fixture(scope="module")
def dash_url(replayed, tmp_path_factory):
    """A copy of the replayed ledger with a viewer, a trader and an admin (read-only for these tests)."""
    url = copy_ledger(replayed[0], tmp_path_factory.mktemp("dash") / "ledger.db")
    add_users(url)
    return url


def test_without_a_session_only_the_login_page_is_served(dash_url, monkeypatch):
    at = start(dash_url, monkeypatch)
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert not at.metric and not at.dataframe and not at.sidebar.selectbox
    with pytest.raises(ValueError, match="not a registered page|Could not find"):
        at.switch_page("views/overview.py")


def test_a_page_script_run_directly_without_a_session_shows_nothing_but_a_login_hint(dash_url, monkeypatch):
    monkeypatch.setenv("TRADEBOT_DASHBOARD_LEDGER_URL", dash_url)
    at = AppTest.from_file(APP.replace("app.py", "views/orders.py"), default_timeout=60).run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Please log in."] and not at.dataframe


def test_every_page_renders_for_a_logged_in_viewer(dash_url, monkeypatch):
    at = login(start(dash_url, monkeypatch), "vera")
    assert not at.exception
    for name in PAGES:
        page(at, f"views/{name}.py")
        assert not at.exception, (name, [e.value for e in at.exception])
        assert at.title, name
    with pytest.raises(ValueError):
        at.switch_page("views/users.py")  # the Users page is registered for admins only


def test_the_overview_shows_the_latest_run_with_equity_drawdown_and_exposure(replayed, dash_url, monkeypatch):
    _, _, latest = replayed
    at = login(start(dash_url, monkeypatch), "vera")
    assert at.sidebar.selectbox[0].value == latest["run_id"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["equity"] == f"{float(latest['final_equity']):,.2f}"
    assert {"cash", "last day PnL", "max drawdown", "open positions"} <= set(labels)
    assert "Kill switch off" in at.success[0].value
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # equity+drawdown, daily PnL, exposure by asset class (and by cluster)


def test_an_older_run_can_be_chosen_in_the_sidebar(replayed, dash_url, monkeypatch):
    _, first, _ = replayed
    at = login(start(dash_url, monkeypatch), "vera")
    at.sidebar.selectbox[0].select(first["run_id"]).run()
    page(at, "views/orders.py")
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == first["orders"]


def test_orders_filter_and_each_order_opens_its_signals_news_and_risk_decision(replayed, dash_url, monkeypatch):
    _, _, latest = replayed
    at = page(login(start(dash_url, monkeypatch), "vera"), "views/orders.py")
    orders = at.dataframe[0].value
    assert len(orders) == latest["orders"] and {"verdict", "risk_reasons"} <= set(orders.columns)
    at.selectbox(key="orders-side").select("sell").run()
    assert set(at.dataframe[0].value["side"]) <= {"sell"}
    at.selectbox(key="orders-side").select("all").run()
    news_order = orders[orders["strategy"] == "news_sentiment"].iloc[0]["client_order_id"]
    at.selectbox(key="orders-cid").select(news_order).run()
    text = " ".join(m.value for m in at.markdown)
    assert "Risk decision:" in text and "Signals on this symbol" in text
    news = at.dataframe[-2].value  # provenance news table (the fills table comes last)
    assert len(news) >= 1 and {"headline", "compound", "label"} <= set(news.columns)


def test_the_market_page_draws_candles_with_entries_and_exits(dash_url, monkeypatch):
    at = page(login(start(dash_url, monkeypatch), "vera"), "views/market.py")
    fig = at.get("plotly_chart")[0].proto.spec
    assert '"candlestick"' in fig and "entry (buy)" in fig


def test_performance_lists_every_strategy_with_closed_trades(dash_url, monkeypatch):
    at = page(login(start(dash_url, monkeypatch), "vera"), "views/performance.py")
    labels = {m.label for m in at.metric}
    assert labels == {"total return", "Sharpe (ann.)", "Sortino (ann.)", "max drawdown"}
    if at.dataframe:
        assert {"win_rate", "trades"} <= set(at.dataframe[0].value.columns)


def test_the_runs_page_lists_the_replays_flow_runs_from_the_prefect_api(dash_url, monkeypatch):
    from prefect.settings import get_current_settings

    at = start(dash_url, monkeypatch, PREFECT_API_URL=str(get_current_settings().api.url))
    at = page(login(at, "vera"), "views/runs.py")
    runs = at.dataframe[0].value
    assert "replay" in set(runs["flow"]) and runs["link"].str.contains("/runs/flow-run/").all()
    assert set(runs.loc[runs["flow"] == "replay", "state"]) == {"Completed"}
    tables = [d.value for d in at.dataframe[1:]]
    assert any("client_order_id" in t.columns for t in tables)  # the trade-cycle table artifact


def test_the_health_page_shows_scraped_metrics_and_names_an_unreachable_endpoint(dash_url, monkeypatch):
    import socket

    from tradebot.metrics import Metrics, start_metrics_server

    metrics = Metrics(process=False)
    metrics.equity.labels(account="paper-main").set(101234.5)
    metrics.orders.labels(status="filled").inc(3)
    metrics.feed_updated("alpaca-bars")
    server, thread = start_metrics_server(0, metrics=metrics)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again before the scrape: nothing listens there
    try:
        urls = f'["http://127.0.0.1:{server.server_port}/metrics", "http://127.0.0.1:{dead}/metrics"]'
        at = page(login(start(dash_url, monkeypatch, TRADEBOT_DASHBOARD__SCRAPE_URLS=urls), "vera"),
                  "views/health.py")
    finally:
        server.shutdown()
        thread.join(5)
    df = at.dataframe[0].value
    row = df[df["metric"] == "tradebot_equity_dollars"].iloc[0]
    assert row["value"] == 101234.5 and row["labels"] == "account=paper-main"
    assert "tradebot_orders_total" in set(df["metric"]) and "tradebot_feed_staleness_seconds" in set(df["metric"])
    assert "not reachable" in at.error[0].value


def test_the_health_page_says_when_no_endpoint_is_configured(dash_url, monkeypatch):
    at = page(login(start(dash_url, monkeypatch), "vera"), "views/health.py")
    assert "No metrics endpoint configured" in at.warning[0].value


def test_an_empty_ledger_says_how_to_fill_it(ledger_url, monkeypatch):
    add_users(ledger_url)
    at = login(start(ledger_url, monkeypatch), "vera")
    assert not at.exception
    assert "make demo" in at.info[0].value
