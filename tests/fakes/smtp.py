"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records each message it accepts."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """Return a port nothing listens on right now (also handy as a 'server down' target)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One accepted message: envelope and the parsed email."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, owner: FakeSMTPServer) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.owner.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class FakeSMTPServer:
    """aiosmtpd's Controller on 127.0.0.1; optional LOGIN/PLAIN auth (without TLS, for the local test only)."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.received: list[Received] = []
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if login is not None:
            user, password = login

            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = (isinstance(data, LoginPassword) and data.login.decode() == user
                      and data.password.decode() == password)
                return AuthResult(success=ok, handled=False)

            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> FakeSMTPServer:
        """Start serving in aiosmtpd's thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server."""
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Poll until count messages arrived or fail after timeout."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} emails, got {len(self.received)}")
            time.sleep(0.01)
        return list(self.received)

    def __enter__(self) -> FakeSMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
