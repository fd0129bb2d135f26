"""A fake Telegram bot API (sendMessage, getMe) on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_server import Recorded, RecordingHTTPServer, Reply, json_reply


class FakeTelegramServer(RecordingHTTPServer):
    """Answers POST /bot{token}/sendMessage like Telegram. Modes: ok, 429 (retry_after), 500, error (400)."""

    TOKEN = "123456789:AAFakeTelegramTokenForTestsOnly_abcdefgh"

    def __init__(self, token: str = TOKEN, retry_after: int = 1) -> None:
        super().__init__()
        self.token, self.retry_after = token, retry_after

    def messages(self) -> list[dict[str, Any]]:
        """Return the bodies of every sendMessage call."""
        return [r.json() for r in self.requests if r.path.endswith("/sendMessage")]

    def reply(self, req: Recorded, mode: str) -> Reply:
        """Answer like the bot API does."""
        prefix = f"/bot{self.token}/"
        if not req.path.startswith(prefix):
            return json_reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if mode == "500":
            return json_reply(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
        if mode == "429":
            return json_reply(429, {"ok": False, "error_code": 429,
                                    "description": f"Too Many Requests: retry after {self.retry_after}",
                                    "parameters": {"retry_after": self.retry_after}})
        if mode == "error":
            return json_reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        method = req.path[len(prefix):]
        if method == "getMe":
            return json_reply(200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "tradebot_bot"}})
        if method == "sendMessage":
            body = req.json()
            if not body.get("chat_id") or not body.get("text"):
                return json_reply(400, {"ok": False, "error_code": 400,
                                        "description": "Bad Request: message text is empty"})
            return json_reply(200, {"ok": True, "result": {"message_id": len(self.requests), "date": 1700000000,
                                                           "chat": {"id": body["chat_id"]}, "text": body["text"]}})
        return json_reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
