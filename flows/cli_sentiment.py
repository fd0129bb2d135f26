"""`tradebot sentiment`: score text lines, or evaluate the model on a labelled CSV."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tradebot.errors import DataError

app = typer.Typer(no_args_is_help=True, help="Finance news sentiment (NLTK VADER adapted to finance).")
LABELS = ("negative", "neutral", "positive")


@app.command("score")
def score(file: Annotated[Path | None, typer.Option("--file", "-f", help="one text per line (default stdin)")]
          = None) -> None:
    """Print one JSON object per input line: text, label, compound, model."""
    from tradebot.sentiment import SentimentAnalyzer

    if file is not None and not file.is_file():
        raise DataError(f"{file}: no such file; pass a text file with one headline per line")
    stream = file.open(encoding="utf-8") if file else sys.stdin
    texts = [line.rstrip("\n") for line in stream if line.strip()]
    analyzer = SentimentAnalyzer()
    for text, result in zip(texts, analyzer.score_many(texts), strict=True):
        typer.echo(json.dumps({"text": text, "label": result.label.value, "compound": round(result.compound, 4),
                               "model": analyzer.model_version}))


@app.command("eval")
def evaluate_cmd(file: Annotated[Path, typer.Option("--file", "-f", help="labelled CSV")],
                 text_col: Annotated[str, typer.Option("--text-col")] = "text",
                 label_col: Annotated[str, typer.Option("--label-col")] = "label",
                 mapping: Annotated[str | None, typer.Option("--map", help="e.g. 0=negative,1=positive,2=neutral")]
                 = None,
                 json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print accuracy, macro-F1 and the confusion matrix of the model on a labelled CSV."""
    from tradebot.sentiment import SentimentAnalyzer
    from tradebot.sentiment.evaluate import evaluate

    texts, labels = read_labelled(file, text_col, label_col, parse_map(mapping))
    predicted = [r.label.value for r in SentimentAnalyzer().score_many(texts)]
    report = evaluate(labels, predicted)
    typer.echo(json.dumps(report.to_dict(), indent=2) if json_out else report.format_text())


def parse_map(spec: str | None) -> dict[str, str]:
    """Parse `raw=label,...` into a dict; labels must be negative, neutral or positive."""
    if not spec:
        return {}
    out = {}
    for part in spec.split(","):
        raw, sep, label = part.partition("=")
        if not sep or label.strip() not in LABELS:
            raise DataError(f"--map entry {part!r} must look like RAW=negative|neutral|positive")
        out[raw.strip()] = label.strip()
    return out


def read_labelled(path: Path, text_col: str, label_col: str, mapping: dict[str, str]) -> tuple[list[str], list[str]]:
    """Read texts and normalized labels; DataError names the file, column or bad label."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        missing = [c for c in (text_col, label_col) if c not in cols]
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}; present: {', '.join(cols) or 'none'}")
        texts, labels = [], []
        for n, row in enumerate(reader, start=2):
            raw = (row[label_col] or "").strip()
            label = mapping.get(raw, raw.lower())
            if label not in LABELS:
                raise DataError(f"{path}:{n}: label {raw!r} is not negative/neutral/positive; use --map")
            texts.append(row[text_col] or "")
            labels.append(label)
    if not texts:
        raise DataError(f"{path}: no labelled rows")
    return texts, labels
