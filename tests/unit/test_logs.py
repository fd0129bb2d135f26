"""Logging: secrets are masked in every line, exceptions included; JSON lines carry ts, level, logger, message."""

import io
import json
import logging

import pytest
from pydantic import SecretStr

from tradebot.alerts import AlertsConfig
from tradebot.logs import (
    PREFECT_LOGGERS,
    JsonFormatter,
    RedactionFilter,
    Redactor,
    configure_logging,
    install_redaction,
)

SECRET = "sk-live-0123456789abcdef"


@pytest.fixture
def redactor():
    r = Redactor()
    r.register(SECRET)
    return r


@pytest.fixture
def capture(redactor):
    """Yield (logger, stream) with a handler that redacts, detached afterwards."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter(redactor))
    logger = logging.getLogger("tradebot.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("text, leaked", [
    ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
    ("GET https://newsapi.org/v2/everything?q=AAPL&apiKey=n3wsk3y123&page=2", "n3wsk3y123"),
    ("url?token=tok123456&x=1 password=hunter2hunter", "hunter2hunter"),
    ("slack token xoxb-1234-5678-abcdefghijkl", "1234-5678-abcdefghijkl"),
    ("POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage", "AAHdqTcv"),
    ("https://discord.com/api/webhooks/123456789/AbCdEfGhIjKl_mnop", "AbCdEfGhIjKl_mnop"),
    ("https://hooks.slack.com/services/T000/B000/XXXXyyyyZZZZ", "XXXXyyyyZZZZ"),
    ("postgresql://trader:pa55word@db:5432/ledger", "pa55word"),
    ('{"password": "in-json-secret"}', "in-json-secret"),
])
def test_common_credential_patterns_are_masked(text, leaked):
    assert leaked not in Redactor().redact(text)


def test_a_registered_secret_never_appears_in_a_formatted_line(capture):
    logger, stream = capture
    logger.info("calling broker with key %s and %s", SECRET, "ok")
    assert SECRET not in stream.getvalue() and "calling broker with key *** and ok" in stream.getvalue()


def test_a_secret_inside_a_logged_exception_is_masked_in_the_traceback(capture):
    logger, stream = capture
    try:
        raise RuntimeError(f"login failed for {SECRET}")
    except RuntimeError:
        logger.exception("broker call failed")
    out = stream.getvalue()
    assert "RuntimeError: login failed for ***" in out and SECRET not in out


def test_config_secrets_can_be_registered_from_a_pydantic_model():
    config = AlertsConfig(telegram={"bot_token": SecretStr("tg-secret-value-42"), "chat_id": "1"})
    r = Redactor()
    r.register_model(config)
    assert r.redact("token tg-secret-value-42 seen") == "token *** seen"


def test_short_values_are_not_registered_so_ordinary_words_survive():
    r = Redactor()
    r.register("abc", None, "")
    assert r.redact("abc") == "abc"


def test_json_lines_hold_ts_level_logger_message_and_extras(redactor):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter(redactor))
    logger = logging.getLogger("tradebot.json_test")
    logger.addHandler(handler)
    try:
        logger.warning("order %s rejected", "o-1", extra={"symbol": "AAPL", "note": f"key {SECRET}"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip())
    assert {k: line[k] for k in ("level", "logger", "message", "symbol")} == {
        "level": "WARNING", "logger": "tradebot.json_test", "message": "order o-1 rejected", "symbol": "AAPL"}
    assert line["ts"].endswith("+00:00") and line["note"] == "key ***"


def test_configure_logging_replaces_only_its_own_handler_and_covers_prefect_loggers(redactor):
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    touched = [logging.getLogger(n) for n in ("", *PREFECT_LOGGERS)]
    filters = {lg.name: list(lg.filters) for lg in touched}
    factory = logging.getLogRecordFactory()
    stream = io.StringIO()
    try:
        configure_logging("DEBUG", json=True, stream=io.StringIO(), redactor=redactor)
        handler = configure_logging("INFO", json=True, stream=stream, redactor=redactor)
        assert [h for h in root.handlers if h not in before] == [handler]
        logging.getLogger("tradebot.any").info("secret is %s", SECRET)
        assert json.loads(stream.getvalue())["message"] == "secret is ***"
        install_redaction(redactor=redactor)
        assert sum(isinstance(f, RedactionFilter) for f in logging.getLogger("prefect.flow_runs").filters) == 1
        late = io.StringIO()
        late_handler = logging.StreamHandler(late)  # like one Prefect's dictConfig adds after setup
        logging.getLogger("prefect.late").addHandler(late_handler)
        try:
            logging.getLogger("prefect.late").error("late %s", SECRET)
        finally:
            logging.getLogger("prefect.late").removeHandler(late_handler)
        assert late.getvalue() == "late ***\n"
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for lg in touched:  # leave the process's logging as the test found it
            lg.filters[:] = filters[lg.name]
        logging.setLogRecordFactory(factory)


def test_records_below_the_configured_level_from_loggers_with_their_own_level_are_not_shown():
    import io
    import logging

    from tradebot.logs import configure_logging

    stream = io.StringIO()
    configure_logging("WARNING", stream=stream)
    noisy = logging.getLogger("prefect.some_child")
    noisy.setLevel(logging.INFO)
    noisy.info("starting temporary server")
    noisy.warning("something worth seeing")
    assert "starting temporary server" not in stream.getvalue()
    assert "something worth seeing" in stream.getvalue()


def test_account_ids_are_logged_as_a_stable_hash_not_in_the_clear(capture, redactor):
    from tradebot.logs import account_ref

    logger, stream = capture
    redactor.register_account("PA3X7Q9Z0ACCT")
    logger.info("account PA3X7Q9Z0ACCT buying power ok; again PA3X7Q9Z0ACCT")
    line = stream.getvalue()
    assert "PA3X7Q9Z0ACCT" not in line
    assert line.count(account_ref("PA3X7Q9Z0ACCT")) == 2
    assert account_ref("PA3X7Q9Z0ACCT") == account_ref("PA3X7Q9Z0ACCT") != account_ref("PA3X7Q9Z0ACCU")
