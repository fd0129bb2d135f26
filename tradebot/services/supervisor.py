"""`tradebot up/down/status`: start, watch and stop the Prefect server, worker, sentinel and dashboard."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tradebot.errors import ConfigError, TradebotError
from tradebot.services import health
from tradebot.services.prefect_yaml import DeploymentSpec, load_prefect_yaml, split_present, work_pool_of
from tradebot.services.procs import RunDir

ORDER = ("prefect-server", "worker", "sentinel", "dashboard")  # start order; `down` goes in reverse
SENTINEL_DEPLOYMENT = "stop-sentinel"


class ServiceError(TradebotError):
    """A service did not start or did not become healthy in time."""


@dataclass(frozen=True)
class ServiceStatus:
    """One service as `status` reports it."""

    name: str
    pid: int | None
    running: bool
    healthy: bool
    detail: str
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the status as plain JSON-able values."""
        return {"name": self.name, "pid": self.pid, "running": self.running, "healthy": self.healthy,
                "detail": self.detail, "url": self.url}


@dataclass
class UpReport:
    """What `up` did: per-step timings (seconds from start), skipped deployments, final statuses."""

    timings: dict[str, float] = field(default_factory=dict)
    deployed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    automations: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    statuses: list[ServiceStatus] = field(default_factory=list)


def port_free(host: str, port: int) -> bool:
    """Return True when nothing listens on host:port."""
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) != 0


class Supervisor:
    """The local services of one tradebot home: their env, pidfiles under home/run, health and lifecycle."""

    def __init__(self, settings: Any, root: Path, config_path: Path | None = None,
                 log: Callable[[str], None] = lambda _msg: None) -> None:
        self.settings, self.root, self.config_path, self.log = settings, root.resolve(), config_path, log
        self.cfg = settings.services
        self.home = Path(settings.home).resolve()
        self.run = RunDir(self.home / "run")
        self.api_url = f"http://{self.cfg.host}:{self.cfg.prefect_port}/api"
        self.ui_url = f"http://{self.cfg.host}:{self.cfg.prefect_port}"
        self.dashboard_url = f"http://{self.cfg.host}:{self.cfg.dashboard_port}"
        self.metrics_url = f"http://{self.cfg.host}:{self.cfg.metrics_port}/metrics"
        self.worker_name = f"tradebot-{socket.gethostname()}-{self.cfg.prefect_port}"
        self.bin = Path(sys.executable).parent
        self.pool = work_pool_of(load_prefect_yaml(self.root / "prefect.yaml"))

    # -- environment ------------------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Return the environment every service and deploy step runs with."""
        from flows.environment import QUIET

        env = {**os.environ, **QUIET}
        env.update({
            "PREFECT_HOME": str(Path(self.settings.prefect_home).resolve()),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_URL": self.ui_url,
            "TRADEBOT_ROOT": str(self.root),
            "TRADEBOT_HOME": str(self.home),
            "TRADEBOT_VERSION": _git_version(self.root) or "",
            # Service output goes to their log files: keep it informative there.
            "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
            # The worker polls for runs every 10 s by default: an event-triggered run would wait up to that long.
            "PREFECT_WORKER_QUERY_SECONDS": os.environ.get("PREFECT_WORKER_QUERY_SECONDS", "2"),
            "TRADEBOT_DASHBOARD__SCRAPE_URLS": json.dumps([u for u in (self.metrics_url, self._sentinel_metrics_url())
                                                          if u]),
        })
        db = self.cfg.prefect_database_url
        if db is not None:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = db.get_secret_value()
        return env

    @contextmanager
    def client(self) -> Iterator[Any]:
        """Yield a sync Prefect client on this supervisor's server."""
        from prefect import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.api_url}), get_client(sync_client=True) as client:
            yield client

    def _cli(self, *args: str) -> list[str]:
        cfg = ["--config", str(self.config_path.resolve())] if self.config_path else []
        return [str(self.bin / "tradebot"), *args, *cfg]

    # -- validation -------------------------------------------------------------------------------------------

    def validate(self) -> tuple[list[DeploymentSpec], list[DeploymentSpec]]:
        """Check config, prefect.yaml and ports before anything starts; return (deployable, missing)."""
        self.settings.require_runnable()
        from strategies import create

        for i, spec in enumerate(self.settings.strategies):
            try:
                create(spec.name, **spec.params)
            except ValueError as exc:
                raise ConfigError(f"config: strategies[{i}] ({spec.name}): {exc}") from None
        specs = load_prefect_yaml(self.root / "prefect.yaml")
        present, missing = split_present(specs, self.root)
        for name, port in (("services.prefect_port", self.cfg.prefect_port),
                           ("services.dashboard_port", self.cfg.dashboard_port),
                           ("services.metrics_port", self.cfg.metrics_port)):
            rec = self.run.record(_service_for(name))
            if not port_free(self.cfg.host, port) and not (rec and self.run.alive(rec)):
                raise ConfigError(f"config: {name} = {port} is in use by another program: stop it or pick "
                                  f"another port (TRADEBOT_SERVICES__{name.split('.')[1].upper()})")
        return present, missing

    # -- up ---------------------------------------------------------------------------------------------------

    def up(self, sentinel: bool = True, dashboard: bool = True) -> UpReport:
        """Validate, migrate, start every service not already running, deploy, and wait until all are healthy."""
        t0 = time.monotonic()
        report = UpReport()

        def mark(step: str) -> None:
            report.timings[step] = round(time.monotonic() - t0, 2)
            self.log(f"{step} ({report.timings[step]:.1f}s)")

        for rec in self.run.records():  # a service that died since the last `up`: forget it, start it afresh
            if not self.run.alive(rec):
                self.run.pidfile(rec.name).unlink(missing_ok=True)
        present, missing = self.validate()
        report.skipped = [f"{s.name} ({s.path} not found)" for s in missing]
        mark("validated config and prefect.yaml")
        env = self.env()
        if not self._running("prefect-server"):
            prefect = str(Path(sys.executable).with_name("prefect"))
            self.run.start("prefect-server", [prefect, "server", "start", "--host", self.cfg.host, "--port",
                                              str(self.cfg.prefect_port)], env, self.home)
        if dashboard and not self._running("dashboard"):
            self.run.start("dashboard", self._cli("dashboard", "--port", str(self.cfg.dashboard_port)), env, self.root)
        from tradebot.store.db import upgrade

        upgrade(self.settings.ledger_url)  # while the server builds its own database
        mark("migrated the ledger")
        self._wait("prefect-server", lambda: health.prefect_api(self.api_url))
        mark("prefect server healthy")
        self._create_pool()
        if not self._running("worker"):
            self.run.start("worker", self._cli("worker", "--pool", self.pool, "--name", self.worker_name,
                                               "--metrics-port", str(self.cfg.metrics_port)), env, self.root)
        report.deployed = self._deploy(present, env)
        mark(f"deployed {len(report.deployed)} deployments")
        from tradebot.automations import ensure_automations

        with self.client() as client:
            report.automations = ensure_automations(client)
        mark("automations in place")
        if sentinel and any(s.name == SENTINEL_DEPLOYMENT for s in present) and not self._running("sentinel"):
            refused = self._sentinel_preflight()
            if refused is None:
                self._start_sentinel(present, env)
            else:  # a fresh clone has no broker keys: everything else still comes up
                report.notes.append(f"sentinel not started: {refused}")
        for name in ("worker", "sentinel", "dashboard"):
            if self.run.record(name) is not None:
                self._wait(name, partial(self._check, name))
        mark("all services healthy")
        report.statuses = self.status()
        return report

    def _running(self, name: str) -> bool:
        rec = self.run.record(name)
        return rec is not None and self.run.alive(rec)

    def _wait(self, name: str, check: Callable[[], health.Health]) -> health.Health:
        deadline = time.monotonic() + self.cfg.start_timeout_seconds
        verdict = health.Health(False, "not checked")
        while time.monotonic() < deadline:
            rec = self.run.record(name)
            if rec is not None and not self.run.alive(rec):
                raise ServiceError(f"{name} exited during start-up: see {rec.log} (`tradebot down` stops the rest)")
            verdict = check()
            if verdict.ok:
                return verdict
            time.sleep(0.25)
        rec = self.run.record(name)
        raise ServiceError(f"{name} not healthy after {self.cfg.start_timeout_seconds:.0f}s ({verdict.detail})"
                           + (f": see {rec.log}" if rec else ""))

    def _create_pool(self) -> None:
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.exceptions import ObjectAlreadyExists

        with self.client() as client, suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name=self.pool, type="process"))

    def _deploy(self, present: list[DeploymentSpec], env: dict[str, str]) -> list[str]:
        # Options such as --pool or --version are ignored when deploying several at once: prefect.yaml holds them.
        argv = [str(self.bin / "prefect"), "--no-prompt", "deploy"]
        for s in present:
            argv += ["--name", s.name]
        log_path = self.run.logfile("deploy")
        self.run.root.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            done = subprocess.run(argv, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=600, check=False)
        if done.returncode != 0:
            raise ServiceError(f"`prefect deploy` failed (exit {done.returncode}): see {log_path}")
        return [s.full_name for s in present]

    def _sentinel_preflight(self) -> str | None:
        """Return why the sentinel cannot run with this config (missing keys...), or None when it can."""
        try:
            from tradebot.sentinel.setup import build_sentinel

            build_sentinel(self.settings)  # builds, connects to nothing: the flow's own checks, in milliseconds
        except TradebotError as exc:
            return str(exc)
        return None

    def _start_sentinel(self, present: list[DeploymentSpec], env: dict[str, str]) -> None:
        from prefect.states import Pending

        spec = next(s for s in present if s.name == SENTINEL_DEPLOYMENT)
        with self.client() as client:
            dep = client.read_deployment_by_name(spec.full_name)
            # Created Pending, so no worker claims it: this supervisor runs it in a process whose pid it owns,
            # and the run still belongs to the deployment (the UI lists it there).
            run = client.create_flow_run_from_deployment(dep.id, state=Pending(), tags=["long-running"])
        # On SIGTERM, `flow-run execute` tells the engine it is being relinquished (so the engine exits without
        # proposing Crashed or running crash hooks) and stops it; `down` then records the run as Cancelled.
        self.run.start("sentinel", [str(self.bin / "prefect"), "flow-run", "execute", str(run.id)],
                       {**env, "PREFECT_FLOW_RUN_EXECUTE_SIGTERM_BEHAVIOR": "relinquish"}, self.root)
        (self.run.root / "sentinel.flow_run").write_text(str(run.id))

    # -- status and down --------------------------------------------------------------------------------------

    def _check(self, name: str) -> health.Health:
        if name == "prefect-server":
            return health.prefect_api(self.api_url)
        if name == "worker":
            beat = health.worker_heartbeat(self.api_url, self.pool, self.worker_name)
            if not beat.ok:
                return beat
            metrics = health.http_ok(self.metrics_url, expect="tradebot_")
            return health.Health(metrics.ok, f"{beat.detail}; metrics {metrics.detail}")
        if name == "dashboard":
            return health.http_ok(f"{self.dashboard_url}/_stcore/health", expect="ok")
        if name == "sentinel":
            try:
                run_id = (self.run.root / "sentinel.flow_run").read_text().strip()
            except OSError:
                return health.Health(False, "no sentinel flow run recorded")
            run = health.flow_run_running(self.api_url, run_id)
            url = self._sentinel_metrics_url()
            if not run.ok or url is None:
                return run
            metrics = health.http_ok(url)
            return health.Health(metrics.ok, f"{run.detail}; metrics {metrics.detail}")
        return health.Health(False, f"unknown service {name}")

    def _sentinel_metrics_url(self) -> str | None:
        port = getattr(getattr(self.settings, "sentinel", None), "metrics_port", None)
        return f"http://127.0.0.1:{port}/metrics" if port else None  # 0 = a random port nobody can check

    def status(self) -> list[ServiceStatus]:
        """Return every recorded service with its pid, liveness and health."""
        urls = {"prefect-server": self.ui_url, "dashboard": self.dashboard_url, "worker": self.metrics_url,
                "sentinel": self._sentinel_metrics_url() or ""}
        out = []
        for name in ORDER:
            rec = self.run.record(name)
            if rec is None:
                out.append(ServiceStatus(name, None, False, False, "not started", urls.get(name, "")))
                continue
            alive = self.run.alive(rec)
            verdict = self._check(name) if alive else health.Health(False, f"pid {rec.pid} is not running")
            out.append(ServiceStatus(name, rec.pid, alive, alive and verdict.ok, verdict.detail, urls.get(name, "")))
        return out

    def down(self) -> dict[str, str]:
        """Stop exactly the recorded services (reverse start order); return each one's outcome."""
        outcomes = {}
        for name in reversed(ORDER):
            rec = self.run.record(name)
            if rec is None:
                continue
            was_alive = self.run.alive(rec)
            outcomes[name] = self.run.stop(rec, self.cfg.stop_grace_seconds)
            if name == "sentinel" and was_alive:
                self._cancel_sentinel_run()
        (self.run.root / "sentinel.flow_run").unlink(missing_ok=True)
        return outcomes


    def _cancel_sentinel_run(self) -> None:
        """Record the sentinel's relinquished run as Cancelled: a deliberate stop is not a crash to alert on."""
        from prefect.states import Cancelled

        try:
            run_id = (self.run.root / "sentinel.flow_run").read_text().strip()
            with self.client() as client:
                client.set_flow_run_state(run_id, Cancelled(message="stopped by `tradebot down`"), force=True)
        except Exception:  # noqa: BLE001 - the server may already be gone; stopping must go on regardless
            self.log("could not mark the sentinel's flow run cancelled; stopping it anyway")


def _service_for(config_key: str) -> str:
    return {"services.prefect_port": "prefect-server", "services.dashboard_port": "dashboard",
            "services.metrics_port": "worker"}[config_key]


def _git_version(root: Path) -> str | None:
    """Return the checkout's short commit (with -dirty), the version each deployment is stamped with."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    done = subprocess.run([git, "describe", "--always", "--dirty"], cwd=root, capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() or None
