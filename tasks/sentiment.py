"""Sentiment task: score every stored headline the current model has not scored yet, in one batch."""

from __future__ import annotations

from datetime import datetime

from tasks.common import compute_task
from tasks.runtime import Runtime
from tradebot.domain import SentimentScore
from tradebot.store.db import transaction
from tradebot.store.marketdata import insert_scores, unscored_news


@compute_task(name="score-sentiment")
def score_sentiment(rt: Runtime, now: datetime) -> int:
    """Score unscored news published by now; return how many were scored."""
    model = rt.analyzer
    with rt.sessions() as s:
        todo = unscored_news(s, model.model_version, now)
    if not todo:
        return 0
    results = model.score_many([headline for _, headline in todo])
    scores = [SentimentScore(nid, r.compound, r.label, model.model_version)
              for (nid, _), r in zip(todo, results, strict=True)]
    with transaction(rt.sessions) as s:
        insert_scores(s, scores, now)
    return len(scores)
