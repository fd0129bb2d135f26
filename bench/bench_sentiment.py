"""Throughput of our finance VADER against plain NLTK VADER and vaderSentiment, in one run.

    python bench/bench_sentiment.py [--repeat 3] [--limit N]

Headlines come from ../shared/data (twitter-financial-news, train + valid) when present, else
from built-in templates. Texts are de-duplicated first so score_many's per-batch cache cannot
flatter our number. Each analyzer's best of --repeat passes is reported, on one core (one thread).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradebot.sentiment import SentimentAnalyzer  # noqa: E402
from tradebot.sentiment.analyzer import load_vader  # noqa: E402
from tradebot.sentiment.evaluate import load_labelled_csv  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment" / "twitter_financial_news_sentiment"

_SUBJECTS = ["Acme Corp", "Globex", "Initech shares", "The S&P 500", "Umbrella Group", "Oil futures",
             "Net sales", "Operating profit", "Quarterly costs", "The company's net loss"]
_PREDICATES = ["soars 12% after earnings beat", "falls 4% as guidance is cut", "was flat in early trading",
               "rose to EUR 13.1 mn from EUR 8.7 mn", "widened in the third quarter",
               "is upgraded to Buy at a major broker", "could miss estimates, analysts say",
               "announces a new plant in Ohio", "cuts 300 jobs amid slowing demand",
               "reports results in line with expectations"]


def headlines(limit: int | None) -> tuple[list[str], str]:
    """Return distinct headlines and where they came from."""
    if (DATA / "sent_train.csv").is_file():
        texts = load_labelled_csv(DATA / "sent_train.csv")[0] + load_labelled_csv(DATA / "sent_valid.csv")[0]
        source = str(DATA)
    else:
        texts = [f"{s} {p} (#{i})" for i in range(120) for s in _SUBJECTS for p in _PREDICATES]
        source = "built-in templates"
    texts = list(dict.fromkeys(texts))
    return texts[:limit] if limit else texts, source


def rate(fn: Callable[[Sequence[str]], object], texts: Sequence[str], repeat: int) -> float:
    """Return the best headlines/second of `repeat` passes of fn over texts."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> int:
    """Run the benchmark and print one line per analyzer plus the ratios."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N headlines")
    args = parser.parse_args()

    texts, source = headlines(args.limit)
    ours = SentimentAnalyzer()
    nltk_plain = load_vader()
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as VaderSentiment

    vs_plain = VaderSentiment()
    print(f"{len(texts)} distinct headlines from {source}; best of {args.repeat} passes")
    results = {
        f"ours ({ours.model_version}) score_many": rate(ours.score_many, texts, args.repeat),
        "plain NLTK VADER polarity_scores": rate(lambda ts: [nltk_plain.polarity_scores(t) for t in ts],
                                                texts, args.repeat),
        "vaderSentiment polarity_scores": rate(lambda ts: [vs_plain.polarity_scores(t) for t in ts],
                                              texts, args.repeat),
    }
    for name, value in results.items():
        print(f"{name:<40}{value:>10,.0f} headlines/s")
    ours_rate, nltk_rate, vs_rate = results.values()
    print(f"ratio ours / plain NLTK VADER: {ours_rate / nltk_rate:.2f}x; "
          f"ours / vaderSentiment: {ours_rate / vs_rate:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
