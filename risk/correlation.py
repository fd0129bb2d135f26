"""Correlation protection: a rolling correlation matrix of returns and simple threshold clusters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from tradebot.domain import ZERO, Symbol


def correlation_matrix(close: pd.DataFrame, lookback: int, min_obs: int) -> np.ndarray:
    """Return the Pearson correlation of the last lookback log returns per column pair (NaN if too short)."""
    c = close.to_numpy(dtype=float)[-lookback - 1:]
    m = c.shape[1]
    if c.shape[0] < 2:
        return np.full((m, m), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(np.log(c), axis=0)
    ok = np.isfinite(r)
    obs = ok.sum(axis=0)
    # A missing return is set to its column mean: it then adds nothing to either sum, which biases a
    # gappy pair toward zero correlation instead of dropping whole rows for every symbol.
    with np.errstate(invalid="ignore"):
        mean = np.where(obs > 0, np.where(ok, r, 0.0).sum(axis=0) / np.maximum(obs, 1), 0.0)
    x = np.where(ok, r - mean, 0.0)
    cov = x.T @ x
    scale = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(scale, scale)
    short = (obs < min_obs) | (scale == 0)
    corr[short, :] = np.nan
    corr[:, short] = np.nan
    np.clip(corr, -1.0, 1.0, out=corr)
    return corr


def cluster_labels(corr: np.ndarray, threshold: float) -> np.ndarray:
    """Return a cluster label per column: connected components of the graph corr >= threshold."""
    n = corr.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    adj = np.nan_to_num(corr, nan=0.0) >= threshold
    np.fill_diagonal(adj, True)
    labels = np.arange(n)
    # Label propagation: each node takes its smallest neighbour label until nothing changes (single linkage).
    while True:
        new = np.where(adj, labels[None, :], n).min(axis=1)
        if np.array_equal(new, labels):
            return labels
        labels = new[new]  # pointer jumping halves the rounds on long chains


@dataclass(slots=True)
class CorrelationView:
    """Correlations and clusters of the symbols in play, and running exposure per cluster."""

    index: dict[Symbol, int]
    corr: np.ndarray
    labels: np.ndarray
    cluster_gross: dict[int, Decimal]

    @classmethod
    def build(cls, close: pd.DataFrame, symbols: Sequence[Symbol], exposure: Mapping[Symbol, Decimal],
              lookback: int, min_obs: int, cluster_threshold: float) -> CorrelationView:
        """Compute the matrix and clusters over symbols (those missing from close get NaN rows)."""
        frame = close.reindex(columns=list(symbols))
        corr = correlation_matrix(frame, lookback, min_obs)
        labels = cluster_labels(corr, cluster_threshold)
        index = {s: i for i, s in enumerate(symbols)}
        view = cls(index, corr, labels, {})
        for sym, value in exposure.items():
            view.add(sym, abs(value))
        return view

    def add(self, sym: Symbol, gross: Decimal) -> None:
        """Count gross notional of sym toward its cluster."""
        label = self.label(sym)
        self.cluster_gross[label] = self.cluster_gross.get(label, ZERO) + gross

    def label(self, sym: Symbol) -> int:
        """Return sym's cluster label (a symbol without history is its own cluster)."""
        i = self.index.get(sym)
        return int(self.labels[i]) if i is not None else -1 - hash(sym) % 10**9

    def members(self, sym: Symbol) -> list[Symbol]:
        """Return the other symbols in sym's cluster."""
        label = self.label(sym)
        return [s for s, i in self.index.items() if s != sym and int(self.labels[i]) == label]

    def most_correlated(self, sym: Symbol, sign: int,
                        exposure: Mapping[Symbol, Decimal]) -> tuple[float, Symbol] | None:
        """Return the highest same-risk correlation of a sign-directed entry in sym with held exposure."""
        i = self.index.get(sym)
        others = [(s, v) for s, v in exposure.items() if s != sym and v != ZERO and s in self.index]
        if i is None or not others:
            return None
        cols = np.fromiter((self.index[s] for s, _ in others), dtype=int, count=len(others))
        signs = np.fromiter((1.0 if v > 0 else -1.0 for _, v in others), dtype=float, count=len(others))
        # A long in A and a short in B with correlation -0.9 carry the same risk as two longs at +0.9.
        eff = self.corr[i, cols] * signs * sign
        if np.all(np.isnan(eff)):
            return None
        k = int(np.nanargmax(eff))
        return float(eff[k]), others[k][0]
