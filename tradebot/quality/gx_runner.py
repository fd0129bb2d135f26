"""Great Expectations plumbing: one ephemeral context per process, one cached suite per rule set.

GX costs seconds to import, so nothing here imports it at module load: the first validation pays
for it and every later call reuses the same context, suite and ValidationDefinition.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleSpec:
    """One row-level expectation in our vocabulary, and the GX expectation class that checks it."""

    name: str  # our short name; lands in the quarantine "failed" column
    column: str | None
    gx_type: str  # class name under great_expectations.expectations
    kwargs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class RuleResult:
    """What GX reported for one rule on one batch."""

    name: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_index: np.ndarray | None  # index labels of the failing rows; None if GX raised
    error: str  # GX's exception message when the expectation could not be evaluated


@dataclass
class _Suite:
    rules: tuple[RuleSpec, ...]
    validation: Any  # gx.ValidationDefinition


_lock = threading.Lock()  # GX contexts are not documented as thread-safe; Prefect may run tasks in threads
_context: Any = None
_suites: dict[str, _Suite] = {}


def _get_context() -> Any:
    """Return the process-wide ephemeral GX context, building it on first use."""
    global _context
    if _context is None:
        # Must be set before the import: GX reads it when its analytics module loads.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # GX logs every metric batch at INFO and some deprecations at WARNING; our outcome says it all.
        # Some GX modules pin their own logger to INFO, so the parent's level alone is not enough.
        for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
            logging.getLogger(name).setLevel(logging.NOTSET)
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        context = gx.get_context(mode="ephemeral")
        # tqdm bars ("Calculating Metrics: ...") would otherwise flood flow logs on every batch.
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        context.data_sources.add_pandas("tradebot_quality")
        _context = context
    return _context


def _get_suite(suite_name: str, rules: tuple[RuleSpec, ...]) -> _Suite:
    suite = _suites.get(suite_name)
    if suite is not None:
        if suite.rules != rules:
            raise ValueError(f"GX suite {suite_name!r} was built with different rules; use a new suite name")
        return suite
    import great_expectations as gx

    context = _get_context()
    asset = context.data_sources.get("tradebot_quality").add_dataframe_asset(suite_name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{suite_name}_whole")
    gx_suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    for rule in rules:
        cls = getattr(gx.expectations, rule.gx_type)
        # meta carries our name through to the result, so results never depend on suite order.
        gx_suite.add_expectation(cls(**dict(rule.kwargs), meta={"rule": rule.name}))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch_definition, suite=gx_suite)
    )
    suite = _Suite(rules=rules, validation=validation)
    _suites[suite_name] = suite
    return suite


def _error_message(info: Any) -> str:
    """Return GX's exception message for a result, or "" when it evaluated cleanly."""
    # A single failure comes as {"raised_exception": ...}; metric failures come keyed by metric id.
    if not info:
        return ""
    if "raised_exception" in info:
        return str(info.get("exception_message") or "GX raised") if info["raised_exception"] else ""
    messages = [str(v.get("exception_message") or "GX raised") for v in info.values()
                if isinstance(v, dict) and v.get("raised_exception")]
    return "; ".join(messages)


def warm_up() -> None:
    """Import GX and build the context now, so the first batch is not charged for it."""
    with _lock:
        _get_context()


def run_rules(suite_name: str, rules: Sequence[RuleSpec], df: pd.DataFrame) -> dict[str, RuleResult]:
    """Validate df against rules with GX and return each rule's result keyed by rule name."""
    rules = tuple(rules)
    with _lock:
        suite = _get_suite(suite_name, rules)
        # COMPLETE is the only format that lists every failing row's index, which the quarantine needs.
        result = suite.validation.run(
            batch_parameters={"dataframe": df}, result_format={"result_format": "COMPLETE"}
        )
    out: dict[str, RuleResult] = {}
    for res in result.results:
        name = res.expectation_config.meta["rule"]
        body = res.result or {}
        error = _error_message(res.exception_info)
        index = body.get("unexpected_index_list")
        if index is None and res.success and not error and not body.get("unexpected_count"):
            index = []
        out[name] = RuleResult(
            name=name,
            success=bool(res.success),
            element_count=int(body.get("element_count", len(df))),
            unexpected_count=int(body.get("unexpected_count", 0)),
            unexpected_index=None if error or index is None else np.asarray(index, dtype=np.int64),
            error=error or ("" if index is not None else "GX returned no unexpected_index_list"),
        )
    missing = [r.name for r in rules if r.name not in out]
    if missing:
        raise RuntimeError(f"GX returned no result for rules {missing}")
    return out
