"""Start background processes with a pidfile and a log file each; stop exactly those pids."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class PidRecord:
    """What `up` wrote about one service process: enough to find it again and to refuse a recycled pid."""

    name: str
    pid: int
    start_ticks: int | None  # /proc/<pid>/stat field 22: a recycled pid has another start time
    argv: tuple[str, ...]
    log: str
    started_at: str

    def to_json(self) -> str:
        """Return the record as one JSON object."""
        return json.dumps({"name": self.name, "pid": self.pid, "start_ticks": self.start_ticks,
                           "argv": list(self.argv), "log": self.log, "started_at": self.started_at})


def _start_ticks(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return int(raw.rsplit(")", 1)[1].split()[19])


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


class RunDir:
    """The folder of pidfiles and logs (.tradebot/run)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def pidfile(self, name: str) -> Path:
        """Return where name's pid record lives."""
        return self.root / f"{name}.pid"

    def logfile(self, name: str) -> Path:
        """Return where name's output goes."""
        return self.root / f"{name}.log"

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> PidRecord:
        """Start argv in its own session, output appended to name's log; record and return its pid."""
        self.root.mkdir(parents=True, exist_ok=True)
        log_path = self.logfile(name)
        with open(log_path, "ab") as log:
            log.write(f"\n== {datetime.now(UTC).isoformat()} starting {name}\n".encode())
            log.flush()
            # A new session: the terminal's Ctrl-C does not reach it, and `down` owns its lifetime.
            proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=dict(env), cwd=cwd, start_new_session=True)
        rec = PidRecord(name, proc.pid, _start_ticks(proc.pid), tuple(argv), str(log_path),
                        datetime.now(UTC).isoformat())
        self.pidfile(name).write_text(rec.to_json() + "\n")
        return rec

    def record(self, name: str) -> PidRecord | None:
        """Return name's pid record, or None when there is none (or it is unreadable)."""
        try:
            d = json.loads(self.pidfile(name).read_text())
            return PidRecord(d["name"], int(d["pid"]), d.get("start_ticks"), tuple(d.get("argv", ())),
                             d.get("log", ""), d.get("started_at", ""))
        except (OSError, ValueError, KeyError):
            return None

    def records(self) -> list[PidRecord]:
        """Return every recorded service, in start order."""
        recs = [r for p in self.root.glob("*.pid") if (r := self.record(p.stem)) is not None]
        return sorted(recs, key=lambda r: r.started_at)

    def alive(self, rec: PidRecord) -> bool:
        """Return True when rec's process still runs (and is the same process, not a recycled pid)."""
        ticks = _start_ticks(rec.pid)
        if ticks is None or _zombie(rec.pid):
            return False
        return rec.start_ticks is None or ticks == rec.start_ticks

    def stop(self, rec: PidRecord, grace_seconds: float) -> str:
        """SIGTERM rec's process group, SIGKILL it after grace_seconds; remove the pidfile; return what happened.

        Each service leads its own session (see start), so its group is exactly that service and the processes
        it spawned (the dashboard's streamlit, the worker's flow runs), never anything else on the machine.
        """
        outcome = "not running"
        if self.alive(rec):
            _signal_group(rec.pid, signal.SIGTERM)
            outcome = "stopped"
            deadline = time.monotonic() + grace_seconds
            while self.alive(rec) and time.monotonic() < deadline:
                _reap(rec.pid)
                time.sleep(0.05)
            if self.alive(rec):
                _signal_group(rec.pid, signal.SIGKILL)
                outcome = "killed"
                while self.alive(rec):
                    _reap(rec.pid)
                    time.sleep(0.02)
        _reap(rec.pid)
        # Children that outlived their leader (it exited on SIGTERM first) still carry its group id. Only while
        # no process holds the pid: Linux does not hand out a pid still in use as a group id, so a pid held by
        # another program means our group is gone, and signalling it would hit a stranger.
        if _start_ticks(rec.pid) is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(rec.pid, signal.SIGKILL)
        self.pidfile(rec.name).unlink(missing_ok=True)
        return outcome


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:  # not a group leader (started by something else): signal only the recorded pid
            os.kill(pid, sig)
    except ProcessLookupError:
        # The leader is gone; its group id may still name surviving children.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)


def _reap(pid: int) -> None:
    # When `up` and `down` run in one process (tests), the child must be reaped or it stays a zombie.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
