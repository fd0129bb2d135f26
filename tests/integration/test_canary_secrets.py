"""Canary secrets: ingestion, alerts, a replay and key commands run with marked secrets; no output holds one.

Every command runs as a user would (the `tradebot` CLI, verbose JSON logs) against local fakes; then every
byte of output is scanned: stdout and stderr, the ledger database, PREFECT_HOME (the Prefect database holds
flow-run parameters, logs and artifacts) and any other file written under the working directory.
"""

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes import faults
from tests.fakes.alpaca_rest import CRYPTO_BARS, FakeAlpacaServer, minute_bars, news_item
from tests.fakes.binance_rest import FakeBinanceServer, klines
from tests.fakes.discord_server import FakeDiscordServer
from tests.fakes.newsapi import FakeNewsAPIServer, article
from tests.fakes.slack_server import FakeSlackServer
from tests.fakes.smtp import FakeSMTPServer
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.slow
TRADEBOT = str(Path(sys.executable).parent / "tradebot")
MARK = uuid.uuid4().hex[:12]
CANARIES = {
    "alpaca_key_id": f"CANARYALPACAKEY{MARK}",
    "alpaca_secret_key": f"canary-alpaca-secret-{MARK}",
    "binance_api_key": f"canary-binance-key-{MARK}",
    "binance_api_secret": f"canary-binance-secret-{MARK}",
    "newsapi_key": f"canary-newsapi-{MARK}",
    "slack_token": f"canary-slack-token-{MARK}",
    "smtp_password": f"canary-smtp-pass-{MARK}",
    "telegram_token": f"987654321:CANARYtelegram{MARK}",
    "discord_webhook_token": f"canary-discord-{MARK}",
    "keyring_password": f"canary-keyring-pass-{MARK}",
}


class CanaryDiscord(FakeDiscordServer):
    PATH = f"/api/webhooks/123456789012345678/{CANARIES['discord_webhook_token']}"


def _run(args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    p = subprocess.run([TRADEBOT, "--verbose", "--log-json", *args], cwd=cwd, env=env, input=stdin,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode in (0, 1), f"{args}: exit {p.returncode}\n{p.stderr[-3000:]}"
    return p.stdout + p.stderr


def _leaks(blob: bytes) -> list[str]:
    return [name for name, value in CANARIES.items() if value.encode() in blob]


def test_no_canary_secret_reaches_any_output_file_log_or_database(tmp_path):
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = now - timedelta(days=12)
    day = timedelta(days=1)
    stock = [b for b in minute_bars(start, 12, step=day)
             if datetime.fromisoformat(b["t"].replace("Z", "+00:00")).weekday() < 5]
    news = [news_item(1, "Apple shares soar after record earnings beat", ["AAPL"], now - timedelta(hours=2),
                      "https://example.test/a")]
    articles = [article("Bitcoin plunges as exchange halts withdrawals", now - timedelta(hours=1),
                        "https://example.test/b")]
    smtp = FakeSMTPServer().start()
    outputs: list[str] = []
    try:
        with FakeAlpacaServer(stock_bars={"AAPL": stock}, crypto_bars={}, news=news) as alpaca, \
                FakeBinanceServer({"BTCUSDT": klines(start, 12, interval_ms=86_400_000)}) as binance, \
                FakeNewsAPIServer(articles, api_key=CANARIES["newsapi_key"]) as newsapi, \
                FakeSlackServer(token=CANARIES["slack_token"]) as slack, \
                FakeTelegramServer(token=CANARIES["telegram_token"]) as telegram, CanaryDiscord() as discord:
            alpaca.faults.add(CRYPTO_BARS, faults.status(500), times=10)  # failover to Binance raises an alert
            config = {
                "universe": {"stocks": ["AAPL"], "crypto": ["BTC/USD"]},
                "data": {"source": "alpaca"},
                "alpaca": {"data_url": alpaca.base_url},
                "feeds": {"binance_url": binance.base_url, "newsapi_url": newsapi.base_url,
                          "news_sources": ["alpaca", "newsapi"]},
                "alerts": {
                    "slack": {"enabled": True, "channel": "#ops", "base_url": slack.api_url},
                    "email": {"enabled": True, "host": "127.0.0.1", "port": smtp.port, "security": "none",
                              "username": "ops", "recipients": ["ops@example.test"]},
                    "telegram": {"enabled": True, "chat_id": "42", "base_url": telegram.base},
                    "discord": {"enabled": True},
                },
            }
            cfg = tmp_path / "tradebot.json"
            cfg.write_text(json.dumps(config))
            cfg.chmod(0o600)
            env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEBOT_")}
            env.update({
                "TRADEBOT_KEYRING_PASSWORD": CANARIES["keyring_password"],
                "TRADEBOT_SECRET_ALPACA_KEY_ID": CANARIES["alpaca_key_id"],
                "TRADEBOT_SECRET_ALPACA_SECRET_KEY": CANARIES["alpaca_secret_key"],
                "TRADEBOT_SECRET_BINANCE_API_KEY": CANARIES["binance_api_key"],
                "TRADEBOT_SECRET_BINANCE_API_SECRET": CANARIES["binance_api_secret"],
                "TRADEBOT_SECRET_SLACK_TOKEN": CANARIES["slack_token"],
                "TRADEBOT_SECRET_SMTP_PASSWORD": CANARIES["smtp_password"],
                "TRADEBOT_SECRET_TELEGRAM_TOKEN": CANARIES["telegram_token"],
                "TRADEBOT_SECRET_DISCORD_WEBHOOK": discord.webhook_url,
            })
            # One key lives in the encrypted file keyring rather than the environment.
            outputs.append(_run(["keys", "set", "newsapi_key", "--stdin"], tmp_path, env, CANARIES["newsapi_key"]))
            outputs.append(_run(["keys", "list"], tmp_path, env))
            outputs.append(_run(["config"], tmp_path, env))
            outputs.append(_run(["ingest", "prices"], tmp_path, env))
            outputs.append(_run(["ingest", "news", "--lookback-minutes", "600"], tmp_path, env))
            outputs.append(_run(["alerts", "test"], tmp_path, env))
            replay_env = {**env, "TRADEBOT_DATA__SOURCE": "synthetic", "TRADEBOT_UNIVERSE__CRYPTO": "[]"}
            outputs.append(_run(["replay", "--days", "3", "--end", "2026-10-30"], tmp_path, replay_env))
            # Positive controls: the canaries really were used to talk to the services.
            assert any(r.headers.get("apca-api-key-id") == CANARIES["alpaca_key_id"] for r in alpaca.requests)
            assert any(CANARIES["newsapi_key"] in json.dumps(r.headers) for r in newsapi.requests)
            assert binance.requests, "the crypto failover never reached Binance"
            assert slack.messages() and telegram.messages() and discord.messages()
    finally:
        smtp.stop()

    for i, text in enumerate(outputs):
        assert not _leaks(text.encode()), f"command {i} printed a secret: {_leaks(text.encode())}"
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            scanned += 1
            leaked = _leaks(path.read_bytes())
            assert not leaked, f"{path.relative_to(tmp_path)} holds {leaked}"
    homes = {p.name for p in (tmp_path / ".tradebot").iterdir()}
    assert "ledger.db" in homes and "prefect" in homes and scanned > 5
