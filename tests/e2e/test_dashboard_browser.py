"""End to end: a demo replay, a user added by the CLI, `streamlit run` on 127.0.0.1, Debian's Chromium logs in.

The screenshot of the Overview is saved under the test's tmp folder (printed), and copied to
$DASHBOARD_SCREENSHOT when that is set (e.g. .tradebot/screenshots/overview.png).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# From PLATFORM_NOTES: the flags that let Debian's Chromium run headless in a container without a GPU or network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "e2e viewer password"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: `apt-get install chromium` to run this"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, deadline_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}")


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/_stcore/health", timeout=1).ok
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory) -> str:
    """Replay 10 trading days into a fresh ledger (against a throwaway Prefect server); return its URL."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.replay import replay

    home = tmp_path_factory.mktemp("e2e-home")
    with prefect_test_harness(server_startup_timeout=120):
        replay(days=10, end=date(2026, 10, 30), overrides={"home": str(home)}, artifacts=False)
    return f"sqlite:///{(home / 'ledger.db').resolve()}"


def test_a_viewer_logs_in_with_chromium_and_sees_the_overview_with_the_equity_chart(demo_ledger, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    env = {**os.environ, "TRADEBOT_DATABASE_URL": demo_ledger, "TRADEBOT_DASHBOARD_LEDGER_URL": demo_ledger,
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "TRADEBOT_DASHBOARD__REFRESH_SECONDS": "0"}
    tradebot = str(Path(sys.executable).with_name("tradebot"))
    added = subprocess.run([tradebot, "users", "add", "erin", "--role", "viewer", "--password-stdin"],
                           input=PASSWORD + "\n", text=True, capture_output=True, env=env, timeout=60)
    assert added.returncode == 0, added.stderr
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.headless", "true", "--client.toolbarMode", "viewer"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    shot = tmp_path / "overview.png"
    started = time.monotonic()
    try:
        _wait(lambda: _healthy(url), "streamlit to answer /_stcore/health", 60)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 2000})
                page.goto(url, wait_until="domcontentloaded")
                idle = "[data-testid=stApp][data-test-script-state=notRunning]"
                page.get_by_role("textbox", name="User name").fill("erin", timeout=30_000)
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
                page.wait_for_selector(idle, timeout=60_000)
                chart = page.locator("[data-testid=stPlotlyChart] .main-svg").first
                chart.wait_for(state="visible", timeout=60_000)
                assert page.get_by_text("Equity and drawdown").first.is_visible()
                assert page.get_by_text("erin").first.is_visible()
                page.wait_for_selector(idle, timeout=60_000)
                page.screenshot(path=str(shot), full_page=True)
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    elapsed = time.monotonic() - started
    assert shot.stat().st_size > 20_000, "the screenshot is suspiciously small (blank page?)"
    print(f"\noverview screenshot: {shot} (browser part {elapsed:.1f} s)")
    if target := os.environ.get("DASHBOARD_SCREENSHOT"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target)
        print(f"copied to {target}")
