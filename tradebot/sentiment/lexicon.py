"""Finance vocabulary layered over the VADER lexicon (data only; values on VADER's -4..+4 scale).

Why: general-English VADER scores "stock soars after earnings beat" as 0.0 and "gross profit" as
negative. The entries below are true of market and company-news language in general; none are
company names or tokens memorised from any data set.
"""

from __future__ import annotations

# Synthetic tokens the phrase rules (rules.py) write in place of a phrase whose polarity depends on
# its object ("loss narrowed", "cuts price target"). They are alphanumeric so VADER's tokeniser keeps
# them whole, and going through the lexicon means VADER's negation, "but" and booster handling still
# apply to them.
POS = "fvpos"
POS2 = "fvposs"
NEG = "fvneg"
NEG2 = "fvnegg"
NIL = "fvnil"  # placeholder that keeps word positions (negation window) but carries no valence

MARKERS: dict[str, float] = {POS: 1.8, POS2: 2.8, NEG: -1.8, NEG2: -2.8}

# Directional verbs and nouns: price and fundamentals moving up is good news by default; rules.py
# flips them when the subject is a cost-like quantity (costs, losses, debt, unemployment).
_UP = {
    "rise": 1.3, "rises": 1.3, "rose": 1.3, "rising": 1.1, "risen": 1.3,
    "increase": 1.3, "increases": 1.3, "increased": 1.3, "increasing": 1.1,
    "grow": 1.2, "grows": 1.3, "grew": 1.3, "growing": 1.0, "grown": 1.1, "growth": 1.0,
    "climb": 1.5, "climbs": 1.5, "climbed": 1.5, "climbing": 1.4,
    "gain": 1.8, "gains": 1.6, "gained": 1.6, "gaining": 1.5, "gainers": 1.0,
    "jump": 1.9, "jumps": 1.9, "jumped": 1.9, "jumping": 1.8,
    "surge": 2.3, "surges": 2.3, "surged": 2.3, "surging": 2.2,
    "soar": 2.5, "soars": 2.5, "soared": 2.5, "soaring": 2.4,
    "skyrocket": 2.6, "skyrockets": 2.6, "skyrocketed": 2.6,
    "rally": 2.0, "rallies": 2.0, "rallied": 2.0, "rallying": 1.9,
    "rebound": 1.8, "rebounds": 1.8, "rebounded": 1.8, "rebounding": 1.7,
    "recover": 1.5, "recovers": 1.5, "recovered": 1.5, "recovery": 1.4, "recovering": 1.4,
    "advance": 1.1, "advances": 1.2, "advanced": 1.2, "advancing": 1.1,
    "doubled": 1.9, "tripled": 2.1, "higher": 1.1, "highs": 1.2, "upside": 1.2,
    "expand": 1.3, "expands": 1.3, "expanded": 1.3, "expanding": 1.1, "expansion": 1.1,
    "improves": 1.9, "improving": 1.7, "strong": 2.0, "stronger": 1.8, "firmer": 1.0,
    "resilient": 1.4, "resilience": 1.3, "tailwind": 1.3, "tailwinds": 1.3,
}
_DOWN = {
    "fall": -1.4, "falls": -1.4, "fell": -1.4, "falling": -1.3, "fallen": -1.4,
    "decrease": -1.3, "decreases": -1.3, "decreased": -1.3, "decreasing": -1.2,
    "decline": -1.4, "declines": -1.4, "declined": -1.4, "declining": -1.3,
    "drop": -1.4, "drops": -1.4, "dropped": -1.4, "dropping": -1.3,
    "slip": -1.2, "slips": -1.2, "slipped": -1.2, "slipping": -1.1,
    "slide": -1.5, "slides": -1.5, "slid": -1.5, "sliding": -1.4,
    "sink": -1.8, "sinks": -1.8, "sank": -1.8, "sinking": -1.7, "sunk": -1.8,
    "plunge": -2.5, "plunges": -2.5, "plunged": -2.5, "plunging": -2.4,
    "plummet": -2.7, "plummets": -2.7, "plummeted": -2.7, "plummeting": -2.6,
    "tumble": -2.2, "tumbles": -2.2, "tumbled": -2.2, "tumbling": -2.1,
    "slump": -2.2, "slumps": -2.2, "slumped": -2.2, "slumping": -2.1,
    "tank": -2.0, "tanks": -2.0, "tanked": -2.2, "tanking": -2.2,
    "dive": -2.0, "dives": -2.0, "dived": -2.0, "nosedive": -2.5, "crashed": -2.5, "crashes": -2.3,
    "shrink": -1.3, "shrinks": -1.3, "shrank": -1.3, "shrinking": -1.2, "shrunk": -1.3,
    "dip": -1.0, "dips": -1.0, "dipped": -1.0, "lowered": -1.0, "lows": -1.0,
    "weaker": -1.8, "weakening": -1.7, "softer": -1.0, "softness": -1.3,
    "slower": -1.2, "slowing": -1.3, "slows": -1.3, "slowed": -1.3, "slowdown": -1.6,
    "downturn": -1.8, "selloff": -1.8, "sell-off": -1.8, "rout": -2.2, "headwind": -1.4, "headwinds": -1.4,
    "losers": -1.0,
}
# Events and wording with a settled meaning in market news.
_EVENTS = {
    # results versus expectations
    "beat": 2.0, "beats": 2.0, "topped": 1.6, "tops": 1.8, "exceeds": 1.8, "exceeded": 1.8,
    "surpasses": 1.8, "surpassed": 1.8, "miss": -1.6, "misses": -1.8, "missed": -1.8,
    "shortfall": -1.8, "disappoints": -2.0,
    # analyst actions and stances
    "upgrade": 2.2, "upgrades": 2.2, "upgraded": 2.2, "downgrade": -2.2, "downgrades": -2.2,
    "downgraded": -2.2, "outperform": 2.0, "outperforms": 2.0, "outperformed": 2.0,
    "outperformance": 1.6, "underperform": -2.0, "underperforms": -2.0, "underperformed": -2.0,
    "underperformance": -1.6, "overweight": 1.5, "underweight": -1.5, "bullish": 2.4, "bearish": -2.4,
    "undervalued": 1.2, "overvalued": -1.2,
    # capital returns
    "dividend": 0.3, "dividends": 0.3, "buyback": 1.5, "buybacks": 1.5, "repurchase": 1.0,
    "accretive": 1.5, "dilutive": -1.3, "dilution": -1.2,
    # distress, restructuring, legal and regulatory trouble
    "layoff": -2.0, "layoffs": -2.0, "redundancies": -1.8, "bankruptcy": -2.8, "insolvency": -2.6,
    "insolvent": -2.6, "default": -1.5, "defaults": -1.5, "defaulted": -2.0, "delisted": -2.0,
    "delisting": -2.0, "writedown": -1.6, "write-down": -1.6, "writedowns": -1.6, "impairment": -1.5,
    "probe": -1.3, "subpoena": -1.5, "fined": -1.6, "sued": -1.3, "recall": -1.2, "recalls": -1.2,
    "halts": -1.2, "halted": -1.2, "warns": -1.5, "warned": -1.4, "profitable": 1.9,
    "profitability": 0.8, "strengthen": 1.3, "savings": 1.2, "synergies": 1.2, "diminished": -1.3,
    "challenging": -1.5, "difficult": -1.5, "uncertain": -1.2,
}
# General VADER words that describe business performance or market mood. The analyzer damps
# general English (GENERAL_WEIGHT); these keep full weight. Values are VADER's own unless noted.
_PERFORMANCE = {
    "improve": 1.9, "improved": 2.1, "improvement": 2.0, "improvements": 2.0, "strengthened": 1.8,
    "strengthens": 2.0, "strengthening": 2.0, "positive": 2.6, "negative": -2.7, "success": 2.7,
    "successful": 2.8, "successfully": 2.2, "optimistic": 1.3, "optimism": 2.5, "upbeat": 1.8,
    "pessimistic": -1.5, "pessimism": -1.5, "confidence": 2.3, "confident": 2.2, "robust": 1.4,
    "solid": 1.4, "weak": -1.9, "weakness": -1.8, "weaken": -1.8, "weakened": -1.3, "weakens": -1.3,
    "weakest": -2.3, "sluggish": -1.7, "disappointing": -2.2, "disappointed": -2.1, "disappoint": -1.7,
    "concern": -1.2, "concerns": -1.2, "worries": -1.8, "worried": -1.2, "fears": -1.8,
    "uncertainty": -1.4, "crisis": -3.1, "recession": -1.8, "fraud": -2.8, "bankrupt": -2.6,
    "lawsuit": -0.9, "penalty": -2.0, "warning": -1.4, "hurt": -2.4, "hurts": -2.1, "pressure": -1.2,
    "pressures": -1.3, "struggling": -1.8, "struggles": -1.6, "troubled": -1.8, "failed": -2.3,
    "failure": -2.3, "fails": -1.8, "lost": -1.3, "loses": -1.3, "losing": -1.6, "downside": -1.0,
    "approval": 2.1, "approved": 1.8, "approves": 1.7, "won": 2.7, "wins": 2.7, "win": 2.8,
    "awarded": 1.7, "record": 1.0, "benefit": 2.0, "benefited": 1.6,
    "suffered": -2.2, "drag": -1.2, "dragged": -1.2, "stall": -0.8, "stalls": -0.8,
    "stalled": -1.0, "delay": -1.3, "delayed": -0.9, "delays": -1.1, "suspended": -2.1, "suspend": -1.3,
    "bailout": -0.4, "scandal": -1.9, "volatile": -0.6, "boost": 1.7, "boosts": 1.3, "boosted": 1.5,
}

# VADER words that are neutral in finance, mostly parts of fixed terms: "gross margin", "crude
# oil", "interest rate", "credit", "asset value", "health care", "Ltd / Limited", "natural gas",
# "trust", "energy". They fire on factual sentences and push them off neutral. "Profit" is the
# topic of most results sentences ("operating profit totalled ...") rather than good news itself.
NEUTRAL_IN_FINANCE: frozenset[str] = frozenset({
    "share", "shares", "gross", "crude", "interest", "credit", "value", "values", "asset", "assets",
    "security", "securities", "profit", "profits", "care", "limited", "natural", "energy", "trust",
    "united", "free", "like", "no", "well", "wells", "worth", "liability", "liabilities", "demand",
    "pay", "treasury", "highlight", "solutions", "significant", "certain", "kind",
    "party", "supreme", "special", "entertainment", "exclusive", "active", "smart", "clean", "legal",
    "important", "number", "charges", "matter", "play", "safety", "holiday", "amazon",
    "cancer", "fair", "please", "dear", "yes", "yeah", "beauty", "popular", "straight", "backing",
    "extends", "create", "ready", "reach", "want", "leave", "avoid", "top",
})

# Present in VADER with a weight that is off for finance: debt and risk are routine subjects;
# "agreement" is mostly a signed contract, mildly good.
REWEIGHTED: dict[str, float] = {
    "debt": -0.5, "risk": -0.5, "risks": -0.5, "agreement": 0.5,
    "loss": -1.3, "losses": -1.5, "lower": -1.1, "low": -0.9, "cut": -1.0, "cuts": -1.0,
    "cutting": -0.8, "gain": 1.8, "increase": 1.3, "increased": 1.3,
}

FINANCE_LEXICON: dict[str, float] = {**_PERFORMANCE, **_UP, **_DOWN, **_EVENTS, **REWEIGHTED, **MARKERS}
