"""Strategies by name: built-ins plus third-party ones from the `tradebot.strategies` entry points."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from strategies.base import Strategy

ENTRY_POINT_GROUP = "tradebot.strategies"
_FACTORIES: dict[str, Callable[..., Strategy]] = {}


def register(name: str) -> Callable[[Callable[..., Strategy]], Callable[..., Strategy]]:
    """Register a strategy factory under name."""

    def deco(factory: Callable[..., Strategy]) -> Callable[..., Strategy]:
        _FACTORIES[name] = factory
        return factory

    return deco


def _load_builtins_and_plugins() -> None:
    import strategies.news
    import strategies.technical  # noqa: F401  (registration side effect)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        _FACTORIES.setdefault(ep.name, ep.load())


def available() -> list[str]:
    """Return the names of every strategy that can be created."""
    _load_builtins_and_plugins()
    return sorted(_FACTORIES)


def create(name: str, **params: Any) -> Strategy:
    """Build the strategy called name; ValueError names the choices or the bad parameter."""
    _load_builtins_and_plugins()
    if name not in _FACTORIES:
        raise ValueError(f"unknown strategy {name!r}; available: {', '.join(sorted(_FACTORIES))}")
    try:
        return _FACTORIES[name](**params)
    except TypeError as exc:
        raise ValueError(f"strategy {name!r}: bad parameters {params}: {exc}") from None
