"""Strategies by name: built-ins plus third-party ones from the `tradebot.strategies` entry points."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
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


def _load_builtins() -> None:
    import strategies.earnings
    import strategies.news
    import strategies.technical  # noqa: F401  (registration side effect)


def _plugins() -> dict[str, EntryPoint]:
    # Built-ins win a name clash: a plugin must never silently replace a strategy we ship.
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in _FACTORIES}


def available() -> list[str]:
    """Return the names of every strategy that can be created."""
    _load_builtins()
    return sorted(set(_FACTORIES) | set(_plugins()))


def create(name: str, **params: Any) -> Strategy:
    """Build the strategy called name; ValueError names the choices or the bad parameter."""
    _load_builtins()
    factory = _FACTORIES.get(name)
    if factory is None:
        plugins = _plugins()
        if name not in plugins:
            raise ValueError(f"unknown strategy {name!r}; available: {', '.join(available())}")
        # Plugins load only when asked for, so one broken plugin cannot break every other strategy.
        try:
            factory = plugins[name].load()
        except Exception as exc:  # any import failure in third-party code becomes one clear message
            raise ValueError(f"strategy {name!r}: plugin {plugins[name].value} failed to load: {exc}") from None
    try:
        return factory(**params)
    except TypeError as exc:
        raise ValueError(f"strategy {name!r}: bad parameters {params}: {exc}") from None
