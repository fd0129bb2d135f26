"""`tradebot users ...` and `tradebot trading flatten|cancel-orders|limits`: the CLI drives the same commands."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRADEBOT = str(Path(sys.executable).parent / "tradebot")
pytestmark = pytest.mark.slow  # a dozen CLI processes, ~3 s each on a loaded machine


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEBOT_")}
    env["TRADEBOT_HOME"] = str(cwd / "home")
    return subprocess.run([TRADEBOT, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env,
                          input=stdin)


def test_users_are_added_listed_and_disabled_and_a_bad_role_or_short_password_is_refused(tmp_path):
    added = run("users", "add", "alice", "--role", "trader", "--password-stdin", cwd=tmp_path,
                stdin="long enough password\n")
    assert added.returncode == 0 and "user alice added with role trader" in added.stdout
    bad_role = run("users", "add", "bob", "--role", "god", "--password-stdin", cwd=tmp_path, stdin="whatever123\n")
    assert bad_role.returncode == 2 and "unknown role 'god': use one of viewer, trader, admin" in bad_role.stderr
    short = run("users", "add", "bob", "--password-stdin", cwd=tmp_path, stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    assert run("users", "disable", "alice", cwd=tmp_path).returncode == 0
    listed = run("users", "list", cwd=tmp_path).stdout
    assert "alice" in listed and "DISABLED" in listed and "bob" not in listed
    audit = run("audit", "show", cwd=tmp_path).stdout
    assert "users.disable" in audit and "argon2" not in audit


def test_limits_are_set_within_bounds_shown_and_an_out_of_bounds_value_names_the_bound(tmp_path):
    bad = run("trading", "limits", "set", "max_open_positions=0", cwd=tmp_path)
    assert bad.returncode == 2
    assert "risk.max_open_positions = '0' is invalid: Input should be greater than or equal to 1" in bad.stderr
    ok = run("trading", "limits", "set", "max_open_positions=4", "-r", "fewer bets", cwd=tmp_path)
    assert ok.returncode == 0 and "max_open_positions = 4" in ok.stdout
    shown = json.loads(run("trading", "limits", "show", "--json", cwd=tmp_path).stdout)
    assert shown["effective"]["max_open_positions"] == 4 and shown["overridden"] == ["max_open_positions"]


def test_flatten_without_a_position_and_cancel_without_orders_say_so(tmp_path):
    flat = run("trading", "flatten", "AAPL", "-r", "test", cwd=tmp_path)
    assert flat.returncode == 2 and "no open position in AAPL for account paper-main" in flat.stderr
    cancel = run("trading", "cancel-orders", cwd=tmp_path)
    assert cancel.returncode == 0 and "no working orders" in cancel.stdout
