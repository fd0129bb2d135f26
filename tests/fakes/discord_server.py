"""A fake Discord incoming webhook on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_server import Recorded, RecordingHTTPServer, Reply, json_reply


class FakeDiscordServer(RecordingHTTPServer):
    """Answers POST /api/webhooks/{id}/{token} with 204. Modes: ok, 429 (retry_after JSON), 500, error (404)."""

    PATH = "/api/webhooks/123456789012345678/FakeDiscordWebhookToken_abcdefghijklmnop"

    def __init__(self, retry_after: float = 0.05) -> None:
        super().__init__()
        self.retry_after = retry_after

    @property
    def webhook_url(self) -> str:
        """Return the webhook URL (the token is part of it)."""
        return self.base + self.PATH

    def messages(self) -> list[dict[str, Any]]:
        """Return the bodies of every webhook post."""
        return [r.json() for r in self.requests if r.path.split("?")[0] == self.PATH]

    def reply(self, req: Recorded, mode: str) -> Reply:
        """Answer like Discord does."""
        if req.path.split("?")[0] != self.PATH or mode == "error":
            return json_reply(404, {"message": "Unknown Webhook", "code": 10015})
        if mode == "500":
            return json_reply(500, {"message": "500: Internal Server Error", "code": 0})
        if mode == "429":
            return json_reply(429, {"message": "You are being rate limited.", "retry_after": self.retry_after,
                                    "global": False}, {"Retry-After": str(self.retry_after)})
        body = req.json()
        if not body.get("content") and not body.get("embeds"):
            return json_reply(400, {"message": "Cannot send an empty message", "code": 50006})
        return 204, {}, b""
