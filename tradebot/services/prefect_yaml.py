"""Read and check prefect.yaml before deploying: every deployment named, its entrypoint present."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tradebot.errors import ConfigError


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment of prefect.yaml, as far as `tradebot up` cares."""

    name: str
    entrypoint: str
    flow_name: str  # the @flow name; for our flows it is the function name
    raw: dict[str, Any]

    @property
    def path(self) -> str:
        """Return the entrypoint's file, relative to the project root."""
        return self.entrypoint.split(":", 1)[0]

    @property
    def full_name(self) -> str:
        """Return FLOW/DEPLOYMENT, the name run_deployment takes."""
        return f"{self.flow_name}/{self.name}"


def load_prefect_yaml(path: Path) -> list[DeploymentSpec]:
    """Parse prefect.yaml; raise ConfigError naming the file and the problem."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    deployments = (data or {}).get("deployments") if isinstance(data, dict) else None
    if not isinstance(deployments, list) or not deployments:
        raise ConfigError(f"{path}: no `deployments:` list")
    specs, seen = [], set()
    for i, d in enumerate(deployments):
        name, entry = (d or {}).get("name"), (d or {}).get("entrypoint")
        if not name or not entry or ":" not in str(entry):
            raise ConfigError(f"{path}: deployments[{i}] needs a name and an entrypoint FILE.py:FUNCTION")
        if name in seen:
            raise ConfigError(f"{path}: deployment name {name!r} appears twice")
        seen.add(name)
        specs.append(DeploymentSpec(str(name), str(entry), str(entry).split(":", 1)[1], d))
    return specs


def split_present(specs: list[DeploymentSpec], root: Path) -> tuple[list[DeploymentSpec], list[DeploymentSpec]]:
    """Return (deployable, missing): deployments whose entrypoint file exists under root, and the rest."""
    present = [s for s in specs if (root / s.path).is_file()]
    return present, [s for s in specs if s not in present]


def resolve(specs: list[DeploymentSpec], flow: str) -> DeploymentSpec:
    """Return the deployment named by flow: FLOW/DEPLOYMENT, a deployment name, or a flow with one deployment."""
    for s in specs:
        if flow in (s.full_name, s.name):
            return s
    by_flow = [s for s in specs if s.flow_name == flow.replace("-", "_")]
    if len(by_flow) == 1:
        return by_flow[0]
    names = ", ".join(s.name for s in specs)
    raise ConfigError(f"no deployment called {flow!r}; known: {names}")


def work_pool_of(specs: list[DeploymentSpec]) -> str:
    """Return the one work pool every deployment names (the worker polls it); ConfigError if they differ."""
    pools = {str((s.raw.get("work_pool") or {}).get("name") or "") for s in specs}
    if len(pools) != 1 or "" in pools:
        raise ConfigError(f"prefect.yaml: every deployment must name the same work pool, found {sorted(pools)}")
    return pools.pop()
