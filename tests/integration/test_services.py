"""`tradebot up/status/run/down` as a user runs them, plus the pidfile bookkeeping they rely on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradebot.services.procs import RunDir

ROOT = Path(__file__).resolve().parents[2]
TRADEBOT = str(Path(sys.executable).parent / "tradebot")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]  # outlives the test; killed in finally
STUBBORN = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            "time.sleep(60)"]


def test_a_started_process_is_recorded_and_stopped_by_its_pid_only(tmp_path):
    run = RunDir(tmp_path / "run")
    rec = run.start("sleeper", SLEEPER, os.environ, tmp_path)
    bystander = subprocess.Popen(SLEEPER)
    try:
        assert run.record("sleeper") == rec and run.alive(rec)
        assert run.stop(rec, grace_seconds=5) == "stopped"
        assert not _alive(rec.pid) and run.record("sleeper") is None
        assert bystander.poll() is None  # untouched
    finally:
        bystander.kill()
        bystander.wait()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    run = RunDir(tmp_path / "run")
    rec = run.start("stubborn", STUBBORN, os.environ, tmp_path)
    deadline = time.monotonic() + 10
    while "ready" not in Path(rec.log).read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    t0 = time.monotonic()
    assert run.stop(rec, grace_seconds=0.5) == "killed"
    assert 0.5 <= time.monotonic() - t0 < 5 and not _alive(rec.pid)


def test_a_recycled_pid_is_not_mistaken_for_the_service(tmp_path):
    run = RunDir(tmp_path / "run")
    other = subprocess.Popen(SLEEPER)
    try:
        # A pidfile naming a live pid whose start time differs: some other program now holds that pid.
        rec = run.start("gone", [sys.executable, "-c", "pass"], os.environ, tmp_path)
        forged = rec.__class__(rec.name, other.pid, 1, rec.argv, rec.log, rec.started_at)
        (tmp_path / "run" / "gone.pid").write_text(forged.to_json())
        assert not run.alive(run.record("gone"))
        assert run.stop(run.record("gone"), grace_seconds=0.5) == "not running"
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_a_bad_services_port_is_refused_with_the_key_named(tmp_path):
    env = {**os.environ, "TRADEBOT_HOME": str(tmp_path / "home"), "TRADEBOT_SERVICES__PREFECT_PORT": "70000"}
    done = subprocess.run([TRADEBOT, "status"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "services.prefect_port" in done.stderr


@pytest.mark.slow
def test_up_status_run_and_down_manage_exactly_the_services_they_started(tmp_path):
    ports = {"PREFECT_PORT": _free_port(), "DASHBOARD_PORT": _free_port(), "METRICS_PORT": _free_port()}
    home = tmp_path / "home"
    env = {**os.environ, "TRADEBOT_HOME": str(home), **{f"TRADEBOT_SERVICES__{k}": str(v) for k, v in ports.items()}}

    def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TRADEBOT, *args], env=env, capture_output=True, text=True, cwd=tmp_path,
                              timeout=timeout)

    bystander = subprocess.Popen(SLEEPER)
    pids: dict[str, int] = {}
    try:
        t0 = time.monotonic()
        up = cli("up", "--no-sentinel")
        print(f"\ntradebot up: {time.monotonic() - t0:.1f}s\n{up.stdout}")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{ports['PREFECT_PORT']}" in up.stdout
        assert f"http://127.0.0.1:{ports['DASHBOARD_PORT']}" in up.stdout
        for name in ("prefect-server", "worker", "dashboard"):
            rec = json.loads((home / "run" / f"{name}.pid").read_text())
            pids[name] = rec["pid"]
            assert _alive(rec["pid"]) and (home / "run" / f"{name}.log").is_file()
        # The Prefect server keeps its database under the tradebot home.
        assert (home / "prefect" / "prefect.db").is_file()

        status = cli("status", "--json", timeout=60)
        assert status.returncode == 0, status.stdout + status.stderr
        by_name = {s["name"]: s for s in json.loads(status.stdout)}
        assert all(by_name[n]["healthy"] and by_name[n]["pid"] == pids[n] for n in pids)
        assert by_name["sentinel"]["pid"] is None and not by_name["sentinel"]["healthy"]

        ran = cli("run", "ingest-news-5m", "--param", "lookback_minutes=5", "--wait", timeout=120)
        assert ran.returncode == 0 and "Completed" in ran.stdout, ran.stdout + ran.stderr

        t0 = time.monotonic()
        down = cli("down", timeout=120)
        print(f"tradebot down: {time.monotonic() - t0:.1f}s")
        assert down.returncode == 0, down.stdout + down.stderr
        assert all(_wait_dead(pid) for pid in pids.values()), pids
        assert bystander.poll() is None
        assert not list((home / "run").glob("*.pid"))
        after = cli("status", "--json", timeout=60)
        assert not any(s["running"] for s in json.loads(after.stdout))
    finally:
        for pid in pids.values():  # only if an assertion above left them running
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
        bystander.kill()
        bystander.wait()
