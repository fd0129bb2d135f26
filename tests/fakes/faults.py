"""Shared base for the HTTP fakes: a real server on 127.0.0.1, request recording and fault injection."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

FaultKind = Literal["status", "retry_after", "timeout", "malformed", "truncated", "empty", "skew", "unknown_symbol"]


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour; `times` replies are affected, then the fake behaves again."""

    kind: FaultKind
    status: int = 500
    retry_after: str = "1"
    delay: float = 2.0  # for "timeout": longer than the client's timeout
    skew_seconds: float = 0.0  # for "skew": added to every timestamp served
    symbol: str = ""  # for "unknown_symbol"


def status(code: int = 500) -> Fault:
    """Reply with an error status in the provider's error format."""
    return Fault("status", status=code)


def rate_limited(retry_after: str = "1") -> Fault:
    """Reply 429 with a Retry-After header."""
    return Fault("retry_after", status=429, retry_after=retry_after)


def timeout(delay: float = 2.0) -> Fault:
    """Answer only after `delay` seconds, longer than the client waits."""
    return Fault("timeout", delay=delay)


def malformed() -> Fault:
    """Reply 200 with a body that is not JSON."""
    return Fault("malformed")


def truncated() -> Fault:
    """Reply 200 with the real body cut in half."""
    return Fault("truncated")


def empty() -> Fault:
    """Reply with a well-formed page holding no data."""
    return Fault("empty")


def skew(seconds: float) -> Fault:
    """Serve timestamps shifted by `seconds` (positive: in the future)."""
    return Fault("skew", skew_seconds=seconds)


def unknown_symbol(symbol: str = "") -> Fault:
    """Reply as the provider does for a symbol it does not list."""
    return Fault("unknown_symbol", symbol=symbol)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    fault: Fault | None = None


@dataclass
class Reply:
    """What the fake sends back."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class FaultPlan:
    """Thread-safe queue of faults per path prefix, consumed in order."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str, Fault]] = deque()
        self._lock = threading.Lock()

    def add(self, path_prefix: str, fault: Fault, times: int = 1) -> None:
        """Apply `fault` to the next `times` requests whose path starts with path_prefix."""
        with self._lock:
            self._queue.extend((path_prefix, fault) for _ in range(times))

    def take(self, path: str) -> Fault | None:
        """Pop the first fault queued for this path."""
        with self._lock:
            for i, (prefix, fault) in enumerate(self._queue):
                if path.startswith(prefix):
                    del self._queue[i]
                    return fault
        return None


class FakeServer:
    """Base fake: subclasses implement `route`, `error` and `unknown`; the base injects faults."""

    def __init__(self, max_lifetime: float = 300.0) -> None:
        self.requests: list[Recorded] = []
        self.faults = FaultPlan()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._max_lifetime = max_lifetime
        self._server: ThreadingHTTPServer | None = None
        self._closed = False

    # -- subclass hooks -------------------------------------------------------------------------
    def route(self, req: Recorded, skew_seconds: float) -> Reply:
        """Answer a well-behaved request."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Reply:
        """Return an error reply in the provider's format."""
        return Reply(status, {"message": message})

    def unknown(self, symbol: str) -> Reply:
        """Return the provider's reply for a symbol it does not list."""
        return self.error(400, f"invalid symbol: {symbol}")

    def empty(self, req: Recorded) -> Reply:
        """Return a well-formed page with no data."""
        return Reply(200, {})

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:<port>."""
        assert self._server is not None, "use the fake as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib hook name
                fake._handle(self)

            def do_POST(self) -> None:  # noqa: N802 - stdlib hook name
                fake._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        # A forgotten fake still stops by itself.
        self._watchdog = threading.Timer(self._max_lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving; idempotent; wakes requests held by a timeout fault."""
        self._stop.set()
        with self._lock:
            if self._server is None or self._closed:
                return
            self._closed = True
        self._watchdog.cancel()
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        """Return the paths requested so far, in order."""
        with self._lock:
            return [r.path for r in self.requests]

    # -- request handling ------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        req = Recorded(h.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                       {k.lower(): v for k, v in h.headers.items()}, time.monotonic())
        req.fault = fault = self.faults.take(parts.path)
        with self._lock:
            self.requests.append(req)
        try:
            reply = self._reply(req, fault)
        except Exception as exc:  # a bug in a fake should read as a 500, not a hung client
            reply = self.error(500, f"fake error: {exc!r}")
        if fault is not None and fault.kind == "timeout" and self._stop.wait(fault.delay):
            return
        raw = reply.raw if reply.raw is not None else json.dumps(reply.body, separators=(",", ":")).encode()
        if fault is not None and fault.kind == "malformed":
            raw = b"<html>502 Bad Gateway</html>{not json"
        elif fault is not None and fault.kind == "truncated":
            raw = raw[: max(1, len(raw) // 2)]
        send_reply(h, reply.status, raw, reply.headers)

    def _reply(self, req: Recorded, fault: Fault | None) -> Reply:
        if fault is None or fault.kind in ("timeout", "malformed", "truncated"):
            return self.route(req, 0.0)
        if fault.kind == "status":
            return self.error(fault.status, "internal server error" if fault.status >= 500 else "bad request")
        if fault.kind == "retry_after":
            reply = self.error(429, "too many requests")
            reply.headers["Retry-After"] = fault.retry_after
            return reply
        if fault.kind == "empty":
            return self.empty(req)
        if fault.kind == "skew":
            return self.route(req, fault.skew_seconds)
        return self.unknown(fault.symbol or "UNKNOWN")


def send_reply(h: BaseHTTPRequestHandler, status: int, raw: bytes, headers: dict[str, str] | None = None,
               content_type: str = "application/json; charset=utf-8") -> None:
    """Write one HTTP reply; a client that already gave up (a timeout fault) is not an error."""
    try:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass


def quick_politeness(limit, *, attempts: int = 3, timeout: float = 0.5, cache: bool = True):
    """Return a Politeness for tests: real limits and Retry-After, but millisecond backoff and short timeouts."""
    from tradebot.adapters.http import Politeness, RetryPolicy, TTLCache

    retry = RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.05, max_retry_after=5.0, timeout=timeout,
                        statuses=frozenset({418, 429, 500, 502, 503, 504}))
    return Politeness(limit, retry, TTLCache() if cache else None)
