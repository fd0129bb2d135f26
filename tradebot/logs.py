"""Logging setup: a redaction filter that masks secrets, and an optional one-object-per-line JSON format."""

from __future__ import annotations

import hashlib
import json as jsonlib
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from pydantic import BaseModel, SecretStr

MASK = "***"
# Shorter values would mask ordinary words and numbers all over the logs.
_MIN_SECRET_LEN = 6
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9\-._~+/]+=*"), rf"\1 {MASK}"),
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]+"), f"xox?-{MASK}"),
    (re.compile(r"xapp-[A-Za-z0-9-]+"), f"xapp-{MASK}"),
    (re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+"), rf"\1{MASK}"),
    (re.compile(r"(discord(?:app)?\.com/api/webhooks/)[0-9]+/[A-Za-z0-9_-]+"), rf"\1{MASK}"),
    (re.compile(r"\b(bot)?[0-9]{6,12}:[A-Za-z0-9_-]{30,}"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b((?:api[_-]?)?key|token|access_token|secret|password|passwd|pwd|signature|apikey)"
                r"=([^&\s\"'<>]+)"), rf"\1={MASK}"),
    (re.compile(r"(?i)([\"'](?:api[_-]?key|token|secret|password|webhook_url|bot_token)[\"']\s*:\s*[\"'])"
                r"[^\"']+"), rf"\1{MASK}"),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), rf"\1{MASK}@"),
)
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def account_ref(account_id: str) -> str:
    """Return a stable, non-reversible reference for a broker account id (what logs show instead of it)."""
    return "acct:" + hashlib.sha256(account_id.encode()).hexdigest()[:12]


class Redactor:
    """Masks registered secret values and well-known credential patterns, and hashes account ids, in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._accounts: dict[str, str] = {}
        self._lock = threading.Lock()
        self._compiled: re.Pattern[str] | None = None
        self._accounts_re: re.Pattern[str] | None = None

    def register_account(self, *account_ids: str | None) -> None:
        """Remember broker account ids: logs show account_ref(id) instead, so lines stay correlatable."""
        with self._lock:
            for a in account_ids:
                if a and len(a) >= _MIN_SECRET_LEN:
                    self._accounts[a] = account_ref(a)
            ordered = sorted(self._accounts, key=len, reverse=True)
            self._accounts_re = re.compile("|".join(re.escape(a) for a in ordered)) if ordered else None

    def register(self, *values: str | SecretStr | None) -> None:
        """Remember secret values so they are masked wherever they appear."""
        with self._lock:
            for v in values:
                raw = v.get_secret_value() if isinstance(v, SecretStr) else v
                if raw and len(raw) >= _MIN_SECRET_LEN:
                    self._secrets.add(raw)
            # Longest first so a secret that contains another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._compiled = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def register_model(self, model: BaseModel) -> None:
        """Register every SecretStr value found anywhere inside a pydantic model (e.g. Settings)."""
        self.register(*_secret_values(model))

    def clear(self) -> None:
        """Forget every registered secret (tests)."""
        with self._lock:
            self._secrets.clear()
            self._accounts.clear()
            self._compiled = self._accounts_re = None

    def redact(self, text: str) -> str:
        """Return text with secrets and credential patterns masked."""
        if not text:
            return text
        compiled = self._compiled
        if compiled is not None:
            text = compiled.sub(MASK, text)
        accounts = self._accounts_re
        if accounts is not None:
            text = accounts.sub(lambda m: self._accounts[m.group(0)], text)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text

    def redact_obj(self, value: Any) -> Any:
        """Return a copy of a JSON-like value with every string redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_obj(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_obj(v) for v in value]
        return value


def _secret_values(value: Any) -> Iterable[SecretStr]:
    if isinstance(value, SecretStr):
        yield value
    elif isinstance(value, BaseModel):
        for v in value.__dict__.values():
            yield from _secret_values(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _secret_values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _secret_values(v)


REDACTOR = Redactor()


def register_secrets(*values: str | SecretStr | None) -> None:
    """Register secret values with the process-wide redactor."""
    REDACTOR.register(*values)


def register_accounts(*account_ids: str | None) -> None:
    """Register broker account ids with the process-wide redactor (logs show their hashed reference)."""
    REDACTOR.register_account(*account_ids)


class RedactionFilter(logging.Filter):
    """Rewrites each record's message, exception and stack text with secrets masked; never drops a record."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or REDACTOR

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place and let it through."""
        if getattr(record, "_tradebot_redacted", None) == id(self.redactor):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.redactor.redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            # Drop exc_info: some handlers (rich, Prefect's console) re-render tracebacks from it.
            record.exc_text, record.exc_info = self.redactor.redact(text), None
        elif record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.redactor.redact(value))
        record._tradebot_redacted = id(self.redactor)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, plus exc and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one JSON line."""
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                out[key] = value
        return jsonlib.dumps(out, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s | %(levelname)-7s | %(name)s - %(message)s"
PREFECT_LOGGERS = ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.extra", "prefect.workers")


def install_redaction(logger_names: Iterable[str] = ("", *PREFECT_LOGGERS), redactor: Redactor | None = None) -> None:
    """Attach a RedactionFilter to the named loggers and to each of their handlers (idempotent)."""
    # Logger filters only see records logged on that very logger; handler filters see propagated ones too.
    for name in logger_names:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactionFilter) for f in target.filters):
                target.addFilter(RedactionFilter(redactor))


def install_record_factory(redactor: Redactor | None = None) -> None:
    """Redact every LogRecord as it is created, so handlers added later (Prefect's dictConfig) are covered too."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_tradebot_redacting", False):
        return
    redaction = RedactionFilter(redactor)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redaction.filter(record)
        return record

    factory._tradebot_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: str | int = "INFO", json: bool = False, stream: IO[str] | None = None,
                      redactor: Redactor | None = None) -> logging.Handler:
    """Send root logs to stream (stderr) as text or JSON lines, with secrets masked; return the handler."""
    # Handler and logger filters cover what exists now; the record factory also covers handlers added later.
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_tradebot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._tradebot = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactionFilter(redactor))
    # The handler's own level matters: records from loggers with their own level (Prefect's) propagate
    # to root handlers whatever the root logger's level is.
    handler.setLevel(level.upper() if isinstance(level, str) else level)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    install_redaction(redactor=redactor)
    install_record_factory(redactor)
    return handler
