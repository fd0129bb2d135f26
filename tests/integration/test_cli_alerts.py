"""`tradebot alerts test` delivers to each configured local endpoint and reports each outcome."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.slack_server import FakeSlackServer
from tests.fakes.smtp import FakeSMTPServer

TRADEBOT = str(Path(sys.executable).parent / "tradebot")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEBOT_")}
    return subprocess.run([TRADEBOT, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_alerts_test_reaches_slack_and_email_and_names_a_failing_channel(tmp_path):
    smtp = FakeSMTPServer().start()
    try:
        with FakeSlackServer() as slack:
            cfg = {"alerts": {
                "slack": {"enabled": True, "bot_token": FakeSlackServer.TOKEN, "channel": "#ops",
                          "base_url": slack.api_url},
                "email": {"enabled": True, "host": "127.0.0.1", "port": smtp.port, "security": "none",
                          "recipients": ["ops@example.test"]},
                "discord": {"enabled": True, "webhook_url": "http://127.0.0.1:9/api/webhooks/1/x"},
            }}
            path = tmp_path / "c.json"
            path.write_text(json.dumps(cfg))
            path.chmod(0o600)
            p = run("alerts", "test", "-c", "c.json", cwd=tmp_path)
            slack_messages = slack.messages()
            one = run("alerts", "test", "-c", "c.json", "--channel", "slack", cwd=tmp_path)
        mails = smtp.wait_for(1)
    finally:
        smtp.stop()
    lines = dict(line.split(None, 1) for line in p.stdout.splitlines())
    assert lines["slack"].startswith("sent") and lines["email"].startswith("sent")
    assert lines["discord"].startswith("failed") and p.returncode == 1  # port 9 refuses: named, not fatal
    assert len(slack_messages) == 1 and len(mails) == 1
    assert one.returncode == 0 and one.stdout.startswith("slack")
    assert FakeSlackServer.TOKEN not in p.stdout + p.stderr
