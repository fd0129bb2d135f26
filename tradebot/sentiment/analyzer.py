"""Finance-adapted VADER: NLTK's SentimentIntensityAnalyzer plus finance vocabulary and phrase rules."""

from __future__ import annotations

import importlib.util
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tradebot.domain.enums import SentimentLabel
from tradebot.errors import DataError
from tradebot.sentiment.lexicon import FINANCE_LEXICON, NEUTRAL_IN_FINANCE
from tradebot.sentiment.rules import is_hedged, rewrite

if TYPE_CHECKING:
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

# Bump whenever the lexicon, rules or thresholds change: stored scores are keyed by it, so a new
# version makes the pipeline rescore old headlines instead of mixing two models.
MODEL_VERSION = "finvader-1.0"

# Label thresholds on the compound score, fitted for accuracy on the twitter-financial-news TRAIN
# split only (`python -m tradebot.sentiment.evaluate DATA_DIR` refits and reports both splits).
# Train accuracy is flat from 0.25 to 0.40 on either side; 0.30 sits just below one plain
# directional word (|1.3| -> 0.32), so "sales rose" is positive and "profit totalled" neutral.
T_POS = 0.30
T_NEG = -0.30
# General-English VADER words ("good", "war", "help", "love") say little about a company's
# prospects in market news, so they count at this fraction; finance vocabulary counts in full.
# Train accuracy is flat for 0..0.25 and falls above; 0.25 keeps VADER's vocabulary in play.
GENERAL_WEIGHT = 0.25
# A hedged claim ("could cut", "may beat") is weaker news than a stated one.
HEDGE_FACTOR = 0.6

_URL = re.compile(r"https?://\S+|\bt\.co/\S+")
_PUNCT = string.punctuation


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """Score of one text: VADER compound in [-1, 1] and its three-way label."""

    compound: float
    label: SentimentLabel


def vader_lexicon_path() -> Path:
    """Return the path of the VADER lexicon shipped inside the installed vaderSentiment wheel."""
    spec = importlib.util.find_spec("vaderSentiment")  # locates the package without importing it
    if spec is None or spec.origin is None:
        raise DataError("sentiment: package vaderSentiment is not installed; run `uv sync`")
    path = Path(spec.origin).parent / "vader_lexicon.txt"
    if not path.is_file():
        raise DataError(f"sentiment: VADER lexicon missing at {path}; reinstall vaderSentiment (`uv sync`)")
    return path


def load_vader() -> SentimentIntensityAnalyzer:
    """Build NLTK's VADER analyzer on the wheel's lexicon, offline (nltk.download cannot be used)."""
    import nltk  # imported here: importing nltk costs ~1-2 s and this package must import fast
    from nltk.sentiment.vader import SentimentIntensityAnalyzer, VaderConstants

    path = vader_lexicon_path()
    # NLTK 3.10 only opens files under its data folders, so register the wheel's folder first.
    if str(path.parent) not in nltk.data.path:
        nltk.data.path.append(str(path.parent))
    try:
        return SentimentIntensityAnalyzer(lexicon_file=path.as_uri())
    except (OSError, ValueError, LookupError):
        # NLTK's path hardening also refuses multiply-linked files, and uv installs wheels as
        # hardlinks into its cache. The file is ours (found via the installed package), so read
        # it directly and give NLTK's analyzer the same text nltk.data.load would have returned.
        engine = SentimentIntensityAnalyzer.__new__(SentimentIntensityAnalyzer)
        engine.lexicon_file = path.read_text(encoding="utf-8").strip("\n")
        engine.lexicon = engine.make_lex_dict()
        engine.constants = VaderConstants()
        return engine


def _vader_modifiers(constants: object) -> frozenset[str]:
    """Return the non-lexicon words VADER's rules look at: negations, boosters, idiom words, 'but'..."""
    words = {"but", "least", "at", "very", "never", "so", "this", "kind", "of"}
    words.update(constants.NEGATE)  # type: ignore[attr-defined]
    for phrase in [*constants.BOOSTER_DICT, *constants.SPECIAL_CASE_IDIOMS]:  # type: ignore[attr-defined]
        words.update(phrase.split())
    return frozenset(words)


class SentimentAnalyzer:
    """Scores finance headlines and news sentences; the same instance is safe to reuse."""

    def __init__(self) -> None:
        self._vader = load_vader()
        lexicon = self._vader.lexicon
        for word in NEUTRAL_IN_FINANCE:
            lexicon.pop(word, None)
        for word, valence in lexicon.items():
            lexicon[word] = round(valence * GENERAL_WEIGHT, 3)
        lexicon.update(FINANCE_LEXICON)
        self._lexicon: dict[str, float] = lexicon
        self._modifiers = _vader_modifiers(self._vader.constants)
        self.model_version: str = MODEL_VERSION
        self.t_pos: float = T_POS
        self.t_neg: float = T_NEG

    def compound(self, text: str) -> float:
        """Return the compound score in [-1, 1] of one text, before labelling."""
        if not text:
            return 0.0
        # Lowercase first: the rules match lowercase text, and in headlines capitals are house style
        # ("Stock Soars", "BREAKING:"), not the emphasis VADER's ALL-CAPS boost assumes.
        lowered = _URL.sub(" ", text).lower()
        prepared = rewrite(lowered)
        compact = self._compact(prepared)
        if compact is None:
            return 0.0
        score: float = self._vader.polarity_scores(compact)["compound"]
        if score and is_hedged(text, lowered):
            score = round(score * HEDGE_FACTOR, 4)
        return score

    def _compact(self, text: str) -> str | None:
        """Return text without the filler VADER cannot score, or None when it holds no lexicon word."""
        # NLTK's tokeniser costs time per distinct word, and most headline words are neutral
        # filler. VADER reads at most the 3 words before a lexicon word (negation, boosters,
        # idioms), so a run of filler longer than 3 can be cut to its last 3 and trailing filler
        # dropped without changing the compound score. No lexicon word at all scores exactly 0.
        lexicon, modifiers = self._lexicon, self._modifiers
        out: list[str] = []
        filler: list[str] = []
        hit = False
        for word in text.split():
            if len(word) < 2:  # VADER drops 1-character tokens; only their ! and ? still count
                if word in "!?":
                    out.append(word)
                continue
            core = word.strip(_PUNCT)
            if word in lexicon or core in lexicon:
                hit = True
            elif not (word in modifiers or core in modifiers or "n't" in word or "!" in word or "?" in word):
                filler.append(word)
                continue
            out.extend(filler[-3:])
            filler.clear()
            out.append(word)
        return " ".join(out) if hit else None

    def label_for(self, compound: float) -> SentimentLabel:
        """Return the label of a compound score under this model's thresholds."""
        if compound > self.t_pos:
            return SentimentLabel.POSITIVE
        if compound < self.t_neg:
            return SentimentLabel.NEGATIVE
        return SentimentLabel.NEUTRAL

    def score(self, text: str) -> SentimentResult:
        """Return the compound score and label of one text."""
        compound = self.compound(text)
        return SentimentResult(compound, self.label_for(compound))

    def score_many(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Score a batch; a headline repeated across feeds is scored once."""
        done: dict[str, SentimentResult] = {}
        out: list[SentimentResult] = []
        for text in texts:
            result = done.get(text)
            if result is None:
                result = done[text] = self.score(text)
            out.append(result)
        return out
