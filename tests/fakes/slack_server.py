"""A fake Slack (Web API and incoming webhooks) on 127.0.0.1, plus the recording HTTP server the other fakes share."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        """Return the body parsed as JSON (or form fields, flattened, for form posts)."""
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        return json.loads(self.body or b"null")


Reply = tuple[int, dict[str, str], bytes]


class RecordingHTTPServer:
    """A threaded HTTP server on 127.0.0.1 that records requests; subclasses answer them in `reply`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.mode = "ok"
        # Modes for the next requests, one per request, before falling back to `mode` (e.g. fail twice then ok).
        self.script: deque[str] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self.port = 0

    def reply(self, req: Recorded, mode: str) -> Reply:
        """Return (status, headers, body) for req in the given mode."""
        raise NotImplementedError

    def start(self) -> RecordingHTTPServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                req = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length))
                with owner._lock:
                    mode = owner.script.popleft() if owner.script else owner.mode
                    owner.requests.append(req)
                status, headers, body = owner.reply(req, mode)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port: clients now get 'connection refused' (the service is down)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    go_down = stop

    @property
    def base(self) -> str:
        """Return http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """Poll until at least count requests arrived (or fail after timeout); return them."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            time.sleep(0.01)
        return list(self.requests)

    def __enter__(self) -> RecordingHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    """Return a JSON reply tuple."""
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(data).encode()


class FakeSlackServer(RecordingHTTPServer):
    """Slack's chat.postMessage and auth.test under /api/, and an incoming webhook under /services/.

    Modes: ok; error (200 with ok=false and `error`); 500; ratelimited (429 + Retry-After). Call go_down() to refuse
    connections.
    """

    WEBHOOK_PATH = "/services/T000/B000/XXXXXXXXXXXXXXXX"
    TOKEN = "xoxb-0000-fake-bot-token"

    def __init__(self, token: str = TOKEN, error: str = "channel_not_found") -> None:
        super().__init__()
        self.token, self.error = token, error
        self._ts = 0

    @property
    def api_url(self) -> str:
        """Return the Web API base URL, trailing slash included (what WebClient's base_url expects)."""
        return f"{self.base}/api/"

    @property
    def webhook_url(self) -> str:
        """Return the incoming-webhook URL."""
        return self.base + self.WEBHOOK_PATH

    def messages(self) -> list[dict[str, Any]]:
        """Return the bodies of every message posted (Web API or webhook)."""
        return [r.json() for r in self.requests if r.path.endswith("chat.postMessage") or r.path == self.WEBHOOK_PATH]

    def reply(self, req: Recorded, mode: str) -> Reply:
        """Answer like Slack does."""
        if mode == "500":
            return 500, {"Content-Type": "text/plain"}, b"internal error"
        if req.path == self.WEBHOOK_PATH:
            if mode == "ratelimited":
                return 429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"rate_limited"
            if mode == "error":
                return 400, {"Content-Type": "text/plain"}, b"invalid_payload"
            return 200, {"Content-Type": "text/plain"}, b"ok"
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return json_reply(200, {"ok": False, "error": "invalid_auth"})
        if mode == "ratelimited":
            return json_reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        if mode == "error":
            return json_reply(200, {"ok": False, "error": self.error})
        method = req.path.rsplit("/", 1)[-1]
        if method == "auth.test":
            return json_reply(200, {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "tradebot",
                                    "team_id": "T000", "user_id": "U000", "bot_id": "B000"})
        if method == "chat.postMessage":
            body = req.json()
            if not body.get("text") and not body.get("blocks"):
                return json_reply(200, {"ok": False, "error": "no_text"})
            self._ts += 1
            return json_reply(200, {"ok": True, "channel": body.get("channel"), "ts": f"1700000000.{self._ts:06d}",
                                    "message": {"text": body.get("text"), "blocks": body.get("blocks")}})
        return json_reply(200, {"ok": False, "error": "unknown_method"})
