"""Each alert channel speaks its service's real protocol to a local fake server."""

from decimal import Decimal

import pytest

from tests.fakes.discord_server import FakeDiscordServer
from tests.fakes.slack_server import FakeSlackServer
from tests.fakes.smtp import FakeSMTPServer, free_port
from tests.fakes.telegram_server import FakeTelegramServer
from tradebot.alerts import OrderRejected, StopTriggered
from tradebot.alerts.channels import DeliveryError
from tradebot.alerts.channels.discord import DiscordChannel
from tradebot.alerts.channels.email import EmailChannel
from tradebot.alerts.channels.slack import SlackBotChannel, SlackWebhookChannel
from tradebot.alerts.channels.telegram import TelegramChannel

ALERT = StopTriggered(symbol="AAPL", stop_price=Decimal("180.50"), last_price=Decimal("180.10"),
                      qty=Decimal("12")).render()


@pytest.fixture
def slack():
    with FakeSlackServer() as server:
        yield server


@pytest.fixture
def telegram():
    with FakeTelegramServer() as server:
        yield server


@pytest.fixture
def discord():
    with FakeDiscordServer() as server:
        yield server


def test_slack_bot_posts_block_kit_blocks_with_the_bot_token(slack):
    SlackBotChannel(slack.token, "#trading", base_url=slack.api_url, timeout=5).send(ALERT)
    req = slack.wait_for(1)[0]
    body = req.json()
    assert req.path == "/api/chat.postMessage" and req.headers["authorization"] == f"Bearer {slack.token}"
    assert body["channel"] == "#trading" and body["text"] == "[WARNING] Stop triggered on AAPL"
    types = [b["type"] for b in body["blocks"]]
    assert types == ["header", "section", "section", "context"]
    assert {"type": "mrkdwn", "text": "*Stop*\n180.50"} in body["blocks"][2]["fields"]


def test_slack_bot_raises_a_permanent_error_naming_slacks_error_code(slack):
    slack.mode = "error"
    with pytest.raises(DeliveryError, match="slack: channel_not_found") as info:
        SlackBotChannel(slack.token, "#nope", base_url=slack.api_url, timeout=5).send(ALERT)
    assert info.value.retryable is False


def test_slack_bot_treats_a_500_as_retryable(slack):
    slack.mode = "500"
    with pytest.raises(DeliveryError) as info:
        SlackBotChannel(slack.token, "#trading", base_url=slack.api_url, timeout=5).send(ALERT)
    assert info.value.retryable is True


def test_slack_bot_auth_test_returns_the_bot_user(slack):
    assert SlackBotChannel(slack.token, "#trading", base_url=slack.api_url, timeout=5).auth_test() == "tradebot"


def test_slack_webhook_posts_blocks_and_reports_http_errors(slack):
    channel = SlackWebhookChannel(slack.webhook_url, timeout=5)
    channel.send(ALERT)
    assert slack.messages()[0]["blocks"][0]["type"] == "header"
    slack.mode = "ratelimited"
    with pytest.raises(DeliveryError, match="HTTP 429") as info:
        channel.send(ALERT)
    assert info.value.retry_after == 1.0


def test_slack_that_is_down_raises_a_retryable_delivery_error(slack):
    slack.go_down()
    with pytest.raises(DeliveryError, match="cannot reach") as info:
        SlackBotChannel(slack.token, "#trading", base_url=slack.api_url, timeout=2).send(ALERT)
    assert info.value.retryable


def test_email_is_multipart_with_text_and_html_to_every_recipient():
    with FakeSMTPServer() as smtp:
        EmailChannel("127.0.0.1", smtp.port, "bot@example.test", ["a@example.test", "b@example.test"],
                     security="none", timeout=5).send(ALERT)
        got = smtp.wait_for(1)[0]
    msg = got.message
    assert got.rcpt_tos == ["a@example.test", "b@example.test"]
    assert msg["Subject"] == "[tradebot] [WARNING] Stop triggered on AAPL"
    assert msg.get_content_type() == "multipart/alternative"
    assert "Stop: 180.50" in msg.get_body(("plain",)).get_content()
    assert "<th align='left'>Stop</th><td>180.50</td>" in msg.get_body(("html",)).get_content()


def test_email_logs_in_when_a_username_is_configured():
    with FakeSMTPServer(login=("bot", "s3cret-pass")) as smtp:
        EmailChannel("127.0.0.1", smtp.port, "bot@example.test", ["a@example.test"], security="none",
                     username="bot", password="s3cret-pass", timeout=5).send(ALERT)
        assert len(smtp.wait_for(1)) == 1
        with pytest.raises(DeliveryError, match="login .* refused") as info:
            EmailChannel("127.0.0.1", smtp.port, "bot@example.test", ["a@example.test"], security="none",
                         username="bot", password="wrong", timeout=5).send(ALERT)
    assert info.value.retryable is False


def test_email_to_a_server_that_is_down_raises_a_delivery_error():
    with pytest.raises(DeliveryError, match="cannot deliver through 127.0.0.1"):
        EmailChannel("127.0.0.1", free_port(), "bot@example.test", ["a@example.test"], security="none",
                     timeout=2).send(ALERT)


def test_telegram_sends_html_text_to_the_chat(telegram):
    TelegramChannel(telegram.token, "-100123", base_url=telegram.base, timeout=5).send(ALERT)
    body = telegram.messages()[0]
    assert body["chat_id"] == "-100123" and body["parse_mode"] == "HTML"
    assert body["text"].startswith("<b>[WARNING] Stop triggered on AAPL</b>")
    assert "<b>Last:</b> 180.10" in body["text"]


def test_telegram_rate_limit_carries_retry_after_and_errors_never_show_the_token(telegram):
    channel = TelegramChannel(telegram.token, "1", base_url=telegram.base, timeout=5)
    telegram.mode = "429"
    with pytest.raises(DeliveryError) as info:
        channel.send(ALERT)
    assert info.value.retry_after == 1.0
    telegram.go_down()
    with pytest.raises(DeliveryError) as info:
        channel.send(ALERT)
    assert telegram.token not in str(info.value) and "ConnectionError" in str(info.value)


def test_discord_posts_content_and_one_embed_with_fields(discord):
    DiscordChannel(discord.webhook_url, timeout=5).send(
        OrderRejected(symbol="TSLA", side="buy", qty=Decimal("3"), reason="insufficient buying power").render())
    body = discord.messages()[0]
    embed = body["embeds"][0]
    assert body["content"] == "[WARNING] Order rejected: buy 3 TSLA" and body["username"] == "tradebot"
    assert embed["description"] == "insufficient buying power" and embed["color"] == 0xF1C40F
    assert {"name": "Symbol", "value": "TSLA", "inline": True} in embed["fields"]


def test_discord_429_and_500_are_retryable_and_a_missing_webhook_is_not(discord):
    channel = DiscordChannel(discord.webhook_url, timeout=5)
    for mode, retryable, retry_after in (("429", True, 0.05), ("500", True, None), ("error", False, None)):
        discord.mode = mode
        with pytest.raises(DeliveryError) as info:
            channel.send(ALERT)
        assert (info.value.retryable, info.value.retry_after) == (retryable, retry_after)
