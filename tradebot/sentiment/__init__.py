"""Finance-adapted VADER sentiment: score headlines and news sentences as positive/neutral/negative.

Importing this package is cheap and offline: NLTK is only imported when an analyzer is built.
"""

from tradebot.sentiment.analyzer import MODEL_VERSION, SentimentAnalyzer, SentimentResult

__all__ = ["MODEL_VERSION", "SentimentAnalyzer", "SentimentResult"]
