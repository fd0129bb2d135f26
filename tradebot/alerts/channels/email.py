"""Email: a multipart (plain text + HTML) message through SMTP with implicit TLS, STARTTLS or none."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from typing import Literal

from tradebot.alerts.channels import SEVERITY_COLOR, DeliveryError
from tradebot.alerts.events import RenderedAlert


def html_for(alert: RenderedAlert) -> str:
    """Return the HTML body: a colored headline, the text, and a table of fields."""
    color = f"#{SEVERITY_COLOR[alert.severity]:06x}"
    rows = "".join(f"<tr><th align='left'>{escape(n)}</th><td>{escape(v)}</td></tr>" for n, v in alert.fields)
    text = escape(alert.text).replace("\n", "<br>")
    return (f"<html><body><h2 style='color:{color}'>{escape(alert.headline)}</h2><p>{text}</p>"
            f"{f'<table>{rows}</table>' if rows else ''}"
            f"<p style='color:#888'>kind={escape(alert.kind)} key={escape(alert.key)}</p></body></html>")


def message_for(alert: RenderedAlert, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """Return the multipart/alternative message for alert."""
    msg = EmailMessage()
    msg["Subject"] = f"[tradebot] {alert.headline}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(alert.as_text())
    msg.add_alternative(html_for(alert), subtype="html")
    return msg


class EmailChannel:
    """Sends each alert as one email to every recipient."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, recipients: Sequence[str], *,
                 security: Literal["ssl", "starttls", "none"] = "starttls", username: str | None = None,
                 password: str | None = None, timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._host, self._port, self._sender, self._recipients = host, port, sender, tuple(recipients)
        self._security, self._username, self._password, self._timeout = security, username, password, timeout
        self._ssl = ssl_context

    def _connect(self) -> smtplib.SMTP:
        context = self._ssl or ssl.create_default_context()
        if self._security == "ssl":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._security == "starttls":
            smtp.starttls(context=context)
        return smtp

    def send(self, alert: RenderedAlert) -> None:
        """Send alert or raise DeliveryError naming the SMTP failure."""
        msg = message_for(alert, self._sender, self._recipients)
        where = f"{self._host}:{self._port}"
        try:
            with self._connect() as smtp:
                if self._username:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"email: login to {where} refused ({exc.smtp_code})", retryable=False) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError(f"email: {where} refused every recipient", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"email: {where} answered {exc.smtp_code}",
                                retryable=exc.smtp_code >= 400 and exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email: cannot deliver through {where} ({type(exc).__name__}: {exc})") from None
