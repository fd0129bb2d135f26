"""Phrase rules: rewrite phrases whose polarity depends on their object into marker tokens.

A word list cannot tell "costs rose" (bad) from "sales rose" (good), or "cuts price target" (bad)
from "cuts costs" (good). Each rule here recognises one such construction and replaces it with a
marker from lexicon.py, so VADER then scores the marker like any word (negation included).
Rules are precompiled and guarded by cheap substring checks so that most texts skip most regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tradebot.sentiment.lexicon import NEG, NEG2, NIL, POS, POS2

_I = re.IGNORECASE


def _alt(words: str) -> str:
    """Return a non-capturing alternation of the space-separated words (multi-word with '_')."""
    return "(?:" + "|".join(w.replace("_", r"\s+") for w in words.split()) + ")"


# Quantities where "up" is bad news. Rising costs, losses, debt or unemployment are negative;
# falling ones positive.
COST = _alt(
    "costs cost expenses expense losses loss deficit deficits debt debts indebtedness liabilities "
    "unemployment jobless_claims jobless_rate inflation provisions impairments impairment "
    "write-downs writedowns charges defaults delinquencies bad_loans non-performing_loans npls "
    "layoffs job_cuts redundancies churn tariffs uncertainty concerns fears worries pressure "
    "short_interest volatility outflows"
)
UP = _alt(
    "rose rise rises rising risen increased increase increases increasing grew grow grows growing "
    "grown climbed climbs jumped jumps surged surges soared soars gained gains doubled tripled "
    "went_up was_up were_up is_up are_up up higher widened widen widens widening expanded swelled "
    "mounted mounting mount spiked spikes ballooned balloons deepened deepens worsened"
)
DOWN = _alt(
    "fell fall falls falling fallen decreased decrease decreases decreasing declined decline "
    "declines declining dropped drop drops dropping slipped slips slid slides sank sinks plunged "
    "plunges tumbled tumbles slumped slumps shrank shrinks shrunk narrowed narrow narrows narrowing "
    "eased ease eases easing went_down was_down were_down is_down are_down down lower reduced "
    "halved dipped dips retreated improved improves"
)
# Things a company or analyst raises or cuts: raising them is good news, cutting them bad.
TARGET = _alt(
    "price_targets price_target targets target pt guidance outlook forecasts forecast view views "
    "estimates estimate projections projection dividends dividend payout payouts ratings rating "
    "expectations"
)
RAISE = _alt("raises raised raise raising lifts lifted lift boosts boosted hikes hiked ups upped bumps "
             "bumped increases increased")
CUT = _alt("cuts cut cutting lowers lowered lower trims trimmed trim reduces reduced slashes slashed "
           "slash")
PULL = _alt("withdraws withdrew withdrawn pulls pulled suspends suspended scraps scrapped scraps "
            "axes axed")
EXPECT = _alt("estimates estimate expectations consensus forecasts forecast views view "
              "guidance projections")
BUY = _alt("buy strong_buy outperform overweight accumulate add market_outperform sector_outperform")
SELL = _alt("sell strong_sell underperform underweight reduce market_underperform sector_underperform")
HOLD = _alt("hold neutral equal-weight equal_weight equalweight market_perform sector_perform "
            "in-line peer_perform sector_weight")
STAFF = _alt("jobs job positions staff workers employees workforce headcount personnel")
RESULT = _alt("profit profits income earnings ebit ebitda result")
_W = r"(?:\S+\s+)"  # one filler word
NUM = r"[+]?\d[\d,.]*\s*(?:%|percent|per_cent|pct|points|pts|bps|cents|basis\s+points)?"

# Hedges soften a claim ("could miss", "may cut"). Title-case "May" is usually the month.
HEDGE = re.compile(
    r"(?i:\b(?:might|could|possibly|perhaps|potentially|reportedly|rumou?red)\b)"
    r"|\bmay\b|(?<!\bin )(?<!\bof )(?<!\bby )\bMay\b(?![\s,]+\d)"
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rewrite: run `pattern.sub(repl, text)` when any trigger substring is in the lowered text."""

    name: str
    triggers: tuple[str, ...]
    pattern: re.Pattern[str]
    repl: str | Callable[[re.Match[str]], str]


def _rule(name: str, triggers: str, pattern: str, repl: str | Callable[[re.Match[str]], str]) -> Rule:
    """Compile one rule; triggers are space-separated lowercase substrings, any of which must occur."""
    return Rule(name, tuple(triggers.split()), re.compile(pattern, _I), repl)


_UNITS = {"bn": 1e9, "billion": 1e9, "mn": 1e6, "mln": 1e6, "million": 1e6, "m": 1e6, "k": 1e3,
          "thousand": 1e3}
# Inside one clause; a dot only as a decimal point ("EUR 13.1 mn").
_SPAN = r"(?:[^.;]|\.(?=\d))"


def _amount_re(tag: str) -> str:
    """Return a regex for a money amount ('EUR 13.1 mn', '$5bn'); number and unit groups named by tag."""
    return (rf"(?:eur|usd|sek|gbp|nok|dkk|chf|rub|\$|€|£)?\s*(?P<{tag}>\d[\d,]*(?:\.\d+)?)\s*"
            rf"(?P<{tag}u>billion|million|thousand|bn|mn|mln|m|k)?\b")


def _amount(number: str, unit: str | None) -> float:
    """Return the value of '13.1' + 'mn' as a float (1,200 -> 1200)."""
    return float(number.replace(",", "")) * _UNITS.get((unit or "").lower(), 1.0)


def _compare(m: re.Match[str]) -> str:
    """Score 'loss totalled EUR 0.3 mn, compared to EUR 2.2 mn' by which way the amount moved."""
    now, before = _amount(m["x"], m["xu"]), _amount(m["y"], m["yu"] or m["xu"])
    if now == before or m["x"].isdigit() and 1990 <= now <= 2100:  # a year, not an amount
        return m[0]
    cost_like = re.fullmatch(COST, m["metric"], _I) is not None
    good = (now > before) != cost_like
    return f"{POS if good else NEG} {m[0][len(m['metric']):]}"


RULES: tuple[Rule, ...] = (
    # Switching sign between profit and loss decides the sentence, whatever the amounts.
    _rule("swung to loss", "loss red",
          rf"\b(?:swung|swings|swing|turned|turns|turn|fell|falls|slipped|slips|plunged|sank|dropped|went)"
          rf"\s+(?:in)?to\s+(?:an?\s+)?(?:\w+\s+){{0,2}}?(?:loss|losses|deficit|the\s+red)\b", NEG2),
    _rule("swung to profit", "profit black", rf"\b(?:swung|swings|swing|turned|turns|turn|returned|returns|"
          rf"return|back)\s+(?:in)?to\s+(?:an?\s+)?(?:\w+\s+){{0,2}}?(?:{RESULT}|profitability|the\s+black)\b",
          POS2),
    _rule("in the red/black", "the red the black", r"\bin\s+the\s+(?:(red)|black)\b",
          lambda m: NEG if m[1] else POS),
    _rule("loss versus profit", "loss", r"\b(?:loss|losses)\b(?P<mid>[^.;]{0,80}?\b(?:from|compared\s+(?:to|with)|"
          rf"versus|vs\.?|against)\s+(?:an?\s+)?(?:\w+\s+){{0,2}}?){RESULT}\b",
          rf"{NEG2}\g<mid>{NIL}"),
    _rule("profit versus loss", "loss", rf"\b{RESULT}\b(?P<mid>[^.;]{{0,80}}?\b(?:from|compared\s+(?:to|with)|"
          r"versus|vs\.?|against)\s+(?:an?\s+)?(?:\w+\s+){0,2}?)(?:loss|losses)\b",
          rf"{POS2}\g<mid>{NIL}"),
    # "Pre-tax loss totalled EUR 0.3 mn, compared to a loss of EUR 2.2 mn": compare the amounts.
    _rule("amount versus amount", "compared from versus vs",
          rf"\b(?P<metric>{COST}|{RESULT}|sales|revenue|revenues|turnover|orders|order\s+intake|margin)\b"
          rf"[^.;]{{0,60}}?\b(?:totall?ed|was|were|amounted\s+to|came\s+in\s+at|reached|stood\s+at|of|at)\s+"
          rf"{_amount_re('x')}"
          rf"[^.;]{{0,40}}?\b(?:compared\s+(?:to|with)|from|versus|vs\.?|against)\s+(?:\w+\s+){{0,3}}?"
          rf"{_amount_re('y')}", _compare),
    # Cost-like subject moving: "costs rose" negative, "loss narrowed" positive.
    _rule("cost up", "cost expens loss deficit debt liabil unemploy jobless inflation provision impair write "
          "charge default delinq loans npl layoff job redundan churn tariff uncertain concern fear worr "
          "pressure short volatil outflow",
          rf"\b{COST}\b(?P<mid>(?:\s+(?!(?:and|but|while|whereas)\b)[^\s.;]+){{0,4}}?)\s+{UP}\b",
          rf"{NIL}\g<mid> {NEG}"),
    _rule("cost down", "cost expens loss deficit debt liabil unemploy jobless inflation provision impair write "
          "charge default delinq loans npl layoff job redundan churn tariff uncertain concern fear worr "
          "pressure short volatil outflow",
          rf"\b{COST}\b(?P<mid>(?:\s+(?!(?:and|but|while|whereas)\b)[^\s.;]+){{0,4}}?)\s+{DOWN}\b",
          rf"{NIL}\g<mid> {POS}"),
    _rule("higher costs", "cost expens loss deficit debt liabil unemploy jobless inflation provision impair "
          "write charge default delinq loans npl layoff job redundan churn tariff uncertain concern fear "
          "worr pressure short volatil outflow",
          rf"\b(?:(?P<up>higher|rising|increased|increasing|soaring|mounting|surging|growing|bigger|larger|"
          rf"wider|widening|increase\s+in|rise\s+in|jump\s+in|surge\s+in|growth\s+in)|lower|falling|reduced|"
          rf"declining|smaller|narrower|narrowing|decrease\s+in|decline\s+in|drop\s+in|fall\s+in|"
          rf"reduction\s+in|cut\s+in|cuts\s+in|savings\s+in)\s+(?:\w+\s+){{0,2}}?{COST}\b",
          lambda m: NEG if m["up"] else POS),
    _rule("cuts costs", "cost expens debt tariff", rf"\b(?:{CUT}|pays?\s+down|paid\s+down|repaid|repays?|"
          rf"slim(?:s|med)?|rein(?:s|ed)?\s+in)\s+(?:\w+\s+){{0,2}}?(?:costs?|expenses|debts?|tariffs)\b", POS),
    _rule("cost savings", "cost", r"\bcost\s+(?:savings|cuts|cutting|reductions?|efficienc(?:y|ies))\b", POS),
    # Layoffs are bad news whatever the verb.
    _rule("job cuts", "job staff work employ position headcount personnel laid lay redundan",
          rf"\b(?:{CUT}|eliminat\w*|shed\w*|axe[sd]?|slash\w*)\s+(?:\S+\s+){{0,3}}?{STAFF}\b"
          rf"|\b(?:job|staff|workforce|headcount)\s+(?:cuts|reductions?|losses)\b"
          r"|\b(?:lay|lays|laying)\s+off\b|\blaid\s+off\b"
          r"|\b(?:personnel|co-?operation|change)\s+negotiations\b", NEG2),
    # Analysts: price targets, ratings, guidance; "cuts price target" negative, "raises" positive.
    _rule("raise target", "raise lift boost hike up bump increase", rf"\b{RAISE}\s+{_W}{{0,4}}?{TARGET}\b",
          POS2),
    _rule("target raised", "raise lift boost hike up bump increase", rf"\b{TARGET}\s+{RAISE}\b", POS2),
    _rule("cut target", "cut lower trim reduc slash", rf"\b{CUT}\s+{_W}{{0,4}}?{TARGET}\b", NEG2),
    _rule("target cut", "cut lower trim reduc slash", rf"\b{TARGET}\s+{CUT}\b", NEG2),
    _rule("pull guidance", "withdr pull suspend scrap axe",
          rf"\b{PULL}\s+{_W}{{0,3}}?{TARGET}\b|\b{TARGET}\s+{PULL}\b", NEG2),
    _rule("downgrade to hold", "hold neutral weight perform line",
          rf"\b(?:{CUT}|downgrade[sd]?|moves?\s+down)\s+{_W}{{0,4}}?to\s+{HOLD}\b", NEG2),
    _rule("upgrade to hold", "hold neutral weight perform line",
          rf"\b(?:{RAISE}|upgrade[sd]?|moves?\s+up)\s+{_W}{{0,4}}?to\s+{HOLD}\b", POS2),
    _rule("rated buy", "buy outperform overweight accumulate add",
          rf"\b(?:to|at|with|as|a|initiated|started|reiterated|reiterates|rates?|rated)\s+(?:an?\s+)?{BUY}\b", POS),
    _rule("rated sell", "sell underperform underweight reduce",
          rf"\b(?:to|at|with|as|a|initiated|started|reiterated|reiterates|rates?|rated)\s+(?:an?\s+)?{SELL}\b", NEG),
    # Results against expectations.
    _rule("beat estimates", "beat top exceed surpass above ahead",
          rf"\b(?:beat|beats|beating|tops|topped|topping|exceeds?|exceeded|surpass\w*|above|ahead\s+of)\s+"
          rf"{_W}{{0,2}}?{EXPECT}\b", POS2),
    _rule("miss estimates", "miss below short shy lag trail under",
          rf"\b(?:miss\w*|below|(?:falls?|fell|came\s+in|comes\s+in)\s+short\s+of|short\s+of|shy\s+of|lag\w*|"
          rf"trail\w*|under)\s+{_W}{{0,2}}?{EXPECT}\b|\b(?:falls?|fell|coming|came)\s+short\b", NEG2),
    _rule("in line", "line", rf"\bin\s+line\s+with\s+{_W}{{0,2}}?{EXPECT}\b", NIL),
    _rule("profit warning", "warning", r"\b(?:profit|earnings|sales|revenue)\s+warnings?\b", NEG2),
    # Record highs and lows; "of record" / "record date" are dividend mechanics.
    _rule("record date", "record", r"\b(?:of|on)\s+record\b|\brecord\s+date\b", NIL),
    _rule("record low", "record low loss", rf"\b(?:record|all-time|all\s+time|multi-year|\d+-(?:week|month|year))"
          r"\s+(?:(?P<bad>lows?|loss|losses|deficit)|highs?|high|revenue|revenues|sales|profits?|earnings|"
          r"quarter|year|results|levels?|orders|income)\b",
          lambda m: NEG if m["bad"] else POS),
    # Bare moves in numbers: "rose 5%" comes from the lexicon; "up 5%", "down 5%", "+2%", "-6%".
    _rule("up/down N", "up down", rf"\b(?:(?P<up>up)|down)\s+(?:by\s+|as\s+much\s+as\s+|about\s+)?{NUM}"
          rf"|\b(?:(?P<upf>up)|down)\s+from\b|\b(?:is|are|was|were|been|trading|trades|shares|stock|stocks)\s+"
          r"(?:(?P<upv>up)|down)\b",
          lambda m: POS if (m["up"] or m["upf"] or m["upv"]) else NEG),
    _rule("+N%", "%", r"(?<!\S)(?:(?P<plus>\+)|[-\u2212\u2013])\d[\d.,]*\s?%",
          lambda m: POS if m["plus"] else NEG),
)


def rewrite(text: str) -> str:
    """Apply every rule whose trigger occurs in the text and return the rewritten text."""
    low = text.lower()
    for rule in RULES:
        if any(t in low for t in rule.triggers):
            text = rule.pattern.sub(rule.repl, text)
    return text


def is_hedged(text: str) -> bool:
    """Return True when the text hedges its claim with may/might/could/reportedly and the like."""
    return HEDGE.search(text) is not None
