"""`tradebot sentiment score|eval` as a user runs them."""

import json
import subprocess
import sys
from pathlib import Path

TRADEBOT = str(Path(sys.executable).parent / "tradebot")


def run(*args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([TRADEBOT, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_score_reads_stdin_and_prints_one_json_object_per_line(tmp_path):
    p = run("sentiment", "score", stdin="Shares plunge after guidance cut\n\nCompany to hold AGM\n", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["negative", "neutral"]
    assert all(set(r) == {"text", "label", "compound", "model"} for r in rows)


def test_score_reads_a_file(tmp_path):
    (tmp_path / "h.txt").write_text("Profit rose 12% on strong demand\n")
    p = run("sentiment", "score", "--file", "h.txt", cwd=tmp_path)
    assert json.loads(p.stdout)["label"] == "positive"


def test_eval_maps_labels_and_reports_accuracy_f1_and_confusion(tmp_path):
    (tmp_path / "l.csv").write_text("sentence,y\nShares plunge after guidance cut,0\n"
                                    "Profit rose 12% on strong demand,1\nCompany to hold AGM,2\n")
    p = run("sentiment", "eval", "--file", "l.csv", "--text-col", "sentence", "--label-col", "y",
            "--map", "0=negative,1=positive,2=neutral", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["accuracy"] == 1.0 and "confusion" in json.dumps(report)


def test_eval_names_an_unmapped_label_and_a_missing_column(tmp_path):
    (tmp_path / "l.csv").write_text("text,label\nx,7\n")
    p = run("sentiment", "eval", "--file", "l.csv", cwd=tmp_path)
    assert p.returncode == 2 and "label '7'" in p.stderr and "--map" in p.stderr
    p = run("sentiment", "eval", "--file", "l.csv", "--text-col", "body", cwd=tmp_path)
    assert p.returncode == 2 and "missing column(s) body" in p.stderr
