"""Bad input at the command line: one line naming the problem, exit status 2, no traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRADEBOT = str(Path(sys.executable).parent / "tradebot")


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRADEBOT_")}
    return subprocess.run([TRADEBOT, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**clean, **(env or {})})


def assert_one_line_error(p: subprocess.CompletedProcess, needle: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in p.stderr


def test_malformed_config_file(tmp_path):
    (tmp_path / "c.json").write_text("{oops")
    assert_one_line_error(run("config", "-c", "c.json", cwd=tmp_path), "c.json is not valid JSON")


def test_missing_config_file(tmp_path):
    assert_one_line_error(run("config", "-c", "missing.json", cwd=tmp_path), "tradebot init")


def test_bad_value_names_the_key(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"risk": {"max_open_positions": 0}}))
    assert_one_line_error(run("config", "-c", "c.json", cwd=tmp_path), "risk.max_open_positions = 0")


def test_unknown_symbol(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"universe": {"stocks": ["ZZZZ"], "crypto": []}}))
    assert_one_line_error(run("ingest", "prices", "-c", "c.json", cwd=tmp_path), "unknown symbol(s) ZZZZ")
    assert not list((tmp_path / ".tradebot").glob("prefect/*.db-journal"))


def test_empty_data_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    p = run("ingest", "prices", "--source", "file", "--path", "empty.csv", "--symbols", "AAPL", cwd=tmp_path)
    assert_one_line_error(p, "empty.csv")


def test_csv_with_missing_columns(tmp_path):
    (tmp_path / "bad.csv").write_text("date,open,close\n2020-01-02,1,2\n")
    p = run("ingest", "prices", "--source", "file", "--path", "bad.csv", "--symbols", "AAPL", cwd=tmp_path)
    assert_one_line_error(p, "bad.csv")


def test_unreachable_database(tmp_path):
    p = run("db", "upgrade", cwd=tmp_path, env={"TRADEBOT_DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:1/x"})
    assert_one_line_error(p, "cannot reach the ledger")
    assert ":pw@" not in p.stderr


def test_live_mode_without_keys(tmp_path):
    p = run("cycle", cwd=tmp_path, env={"TRADEBOT_MODE": "live"})
    assert_one_line_error(p, "TRADEBOT_ALPACA__KEY_ID")


def test_debug_shows_the_traceback(tmp_path):
    p = run("--debug", "config", "-c", "missing.json", cwd=tmp_path)
    assert p.returncode != 0 and "Traceback" in p.stderr


@pytest.mark.parametrize("args", [["--help"], ["db", "--help"], ["ingest", "--help"]])
def test_help_works(tmp_path, args):
    assert run(*args, cwd=tmp_path).returncode == 0


def test_init_writes_a_config_that_loads(tmp_path):
    assert run("init", cwd=tmp_path).returncode == 0
    p = run("config", cwd=tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["mode"] == "paper"
    loaded = json.loads(p.stdout)
    assert loaded["dashboard"]["scrape_urls"] and loaded["execution"]["outside_positions"] == "ignore"
    assert_one_line_error(run("init", cwd=tmp_path), "already exists")


def test_unknown_strategy_is_named_before_anything_runs(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"strategies": [{"name": "moon_phase"}]}))
    p = run("cycle", "-c", "c.json", cwd=tmp_path)
    assert_one_line_error(p, "strategies[0] (moon_phase): unknown strategy 'moon_phase'; available")
    assert not (tmp_path / ".tradebot" / "ledger.db").exists()


def test_audit_verify_exits_nonzero_naming_the_broken_entry(tmp_path):
    import sqlite3

    assert run("trading", "pause", "-r", "first", cwd=tmp_path).returncode == 0
    assert run("trading", "resume", "-r", "second", cwd=tmp_path).returncode == 0
    ok = run("audit", "verify", cwd=tmp_path)
    assert ok.returncode == 0 and "2 entries verified" in ok.stdout
    con = sqlite3.connect(tmp_path / ".tradebot" / "ledger.db")
    con.execute("UPDATE audit_log SET actor='mallory' WHERE id=1")
    con.commit()
    bad = run("audit", "verify", cwd=tmp_path)
    assert bad.returncode == 1 and "BROKEN at entry 1" in bad.stderr


def test_a_usage_error_names_the_option_and_exits_2(tmp_path):
    p = run("ingest", "news", "--source", "file", cwd=tmp_path)
    assert p.returncode == 2 and "--path FILE" in p.stderr and "BadParameter:" not in p.stderr
