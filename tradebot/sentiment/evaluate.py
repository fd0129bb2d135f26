"""Metrics for three-way sentiment labels, threshold calibration, and a CLI on labelled CSV splits.

    python -m tradebot.sentiment.evaluate DATA_DIR

DATA_DIR holds sent_train.csv and sent_valid.csv (columns text,label; 0 bearish, 1 bullish,
2 neutral). The CLI fits label thresholds on the train split only and reports both splits.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tradebot.errors import DataError

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")  # row/column order of the confusion matrix
# twitter-financial-news-sentiment encoding.
TWITTER_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall, F1 and support of one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    """Accuracy, macro-F1, per-class metrics and confusion matrix (rows true, columns predicted)."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...] = LABELS

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": {k: asdict(v) for k, v in self.per_class.items()},
            "labels": list(self.labels),
            "confusion": [list(row) for row in self.confusion],
        }

    def format_text(self) -> str:
        """Return a short human-readable report for a terminal."""
        lines = [f"n={self.n}  accuracy={self.accuracy:.4f}  macro_f1={self.macro_f1:.4f}",
                 f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
        for label in self.labels:
            m = self.per_class[label]
            lines.append(f"{label:<10}{m.precision:>10.4f}{m.recall:>10.4f}{m.f1:>10.4f}{m.support:>9}")
        lines.append("confusion (rows true, cols predicted): " + " ".join(self.labels))
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"{label:<10}" + "".join(f"{c:>9}" for c in row))
        return "\n".join(lines)


def _ratio(num: float, den: float) -> float:
    """Return num/den, or 0.0 when den is 0 (the usual convention for empty classes)."""
    return num / den if den else 0.0


def evaluate(y_true: Sequence[str], y_pred: Sequence[str]) -> EvalReport:
    """Compare true and predicted labels ('negative', 'neutral', 'positive') and return the metrics."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"evaluate: {len(y_true)} true labels but {len(y_pred)} predictions")
    index = {label: i for i, label in enumerate(LABELS)}
    confusion = [[0] * len(LABELS) for _ in LABELS]
    for t, p in zip(y_true, y_pred, strict=True):
        if t not in index or p not in index:
            raise ValueError(f"evaluate: labels must be one of {LABELS}, got {t!r} / {p!r}")
        confusion[index[t]][index[p]] += 1
    per_class: dict[str, ClassMetrics] = {}
    for i, label in enumerate(LABELS):
        tp = confusion[i][i]
        predicted = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        per_class[label] = ClassMetrics(precision, recall, _ratio(2 * precision * recall, precision + recall),
                                        support)
    n = len(y_true)
    return EvalReport(
        n=n,
        accuracy=_ratio(sum(confusion[i][i] for i in range(len(LABELS))), n),
        macro_f1=sum(m.f1 for m in per_class.values()) / len(LABELS),
        per_class=per_class,
        confusion=tuple(tuple(row) for row in confusion),
    )


def fit_thresholds(scores: Sequence[float], y_true: Sequence[str], step: float = 0.05,
                   limit: float = 0.8) -> tuple[float, float]:
    """Return (t_neg, t_pos) maximising accuracy of `score > t_pos` positive, `< t_neg` negative."""
    # With t_neg <= 0 <= t_pos accuracy splits into a negative-side and a positive-side count, so
    # each threshold is searched on its own. Ties go to the threshold nearest 0.
    grid = [round(i * step, 6) for i in range(int(limit / step) + 1)]
    pairs = list(zip(scores, y_true, strict=True))

    def side_hits(t: float, sign: int) -> int:
        hits = 0
        for s, y in pairs:
            v = s * sign
            if v > t:
                hits += y == ("positive" if sign > 0 else "negative")
            elif (v > 0 or (sign > 0 and v == 0)) and y == "neutral":
                hits += 1
        return hits

    t_pos = max(grid, key=lambda t: (side_hits(t, 1), -t))
    t_neg = max(grid, key=lambda t: (side_hits(t, -1), -t))
    return -t_neg, t_pos


def load_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    """Read a twitter-financial-news CSV (text,label with 0/1/2) into texts and label names."""
    texts: list[str] = []
    labels: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                label = TWITTER_LABELS.get((row.get("label") or "").strip())
                if label is None or row.get("text") is None:
                    raise DataError(f"{path}: line {len(texts) + 2}: expected text,label with label 0/1/2")
                texts.append(row["text"])
                labels.append(label)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror}); check the data directory") from None
    if not texts:
        raise DataError(f"{path}: no rows; expected a CSV with columns text,label")
    return texts, labels


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: fit thresholds on train, then report train and valid with the model's own thresholds."""
    from tradebot.sentiment.analyzer import SentimentAnalyzer

    parser = argparse.ArgumentParser(prog="python -m tradebot.sentiment.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="folder with sent_train.csv and sent_valid.csv")
    args = parser.parse_args(argv)
    try:
        train = load_labelled_csv(args.data_dir / "sent_train.csv")
        valid = load_labelled_csv(args.data_dir / "sent_valid.csv")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = SentimentAnalyzer()
    train_scores = [model.compound(t) for t in train[0]]
    t_neg, t_pos = fit_thresholds(train_scores, train[1])
    print(f"{model.model_version}: thresholds in use t_neg={model.t_neg} t_pos={model.t_pos}; "
          f"fitted on train t_neg={t_neg} t_pos={t_pos}")
    for name, (_texts, labels), scores in (("train", train, train_scores),
                                          ("valid", valid, [model.compound(t) for t in valid[0]])):
        print(f"\n== {name}\n" + evaluate(labels, [model.label_for(s) for s in scores]).format_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
