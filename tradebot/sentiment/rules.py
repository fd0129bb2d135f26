"""Phrase rules: rewrite phrases whose polarity depends on their object into marker tokens.

A word list cannot tell "costs rose" (bad) from "sales rose" (good), or "cuts price target" (bad)
from "cuts costs" (good). Each rule here recognises one such construction and replaces it with a
marker from lexicon.py, so VADER then scores the marker like any word (negation included).
Rules are precompiled and guarded by one cheap scan for trigger words, so most texts skip most regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tradebot.sentiment.lexicon import NEG, NEG2, NIL, POS, POS2


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
    "short_interest volatility outflows raw_material_prices raw-material_prices input_prices fuel_prices "
    "energy_prices"
)
UP = _alt(
    "rose rise rises rising risen increased increase increases increasing grew grow grows growing "
    "grown climbed climbs jumped jumps surged surges soared soars gained gains doubled tripled "
    "went_up was_up were_up is_up are_up up higher widened widen widens widening expanded swelled "
    "mounted mounting mount spiked spikes ballooned balloons"
)
DOWN = _alt(
    "fell fall falls falling fallen decreased decrease decreases decreasing declined decline "
    "declines declining dropped drop drops dropping slipped slips slid slides sank sinks plunged "
    "plunges tumbled tumbles slumped slumps shrank shrinks shrunk narrowed narrow narrows narrowing "
    "eased ease eases easing went_down was_down were_down is_down are_down down lower reduced "
    "halved dipped dips retreated diminished diminishes"
)
# Change of quality rather than size: "loss improved" (smaller) and "margin improved" are good news.
IMPROVE = _alt("improved improves improving recovered")
WORSEN = _alt("worsened worsens worsening deteriorated deteriorates deepened deepens weakened weakens")
# Things a company or analyst raises or cuts: raising them is good news, cutting them bad.
TARGET = _alt(
    "price_targets price_target targets target pt guidance outlook forecasts forecast view views "
    "estimates estimate projections projection dividends dividend payout payouts ratings rating "
    "expectations"
)
RAISE = _alt("raises raised raise raising lifts lifted lift boosts boosted hikes hiked ups upped bumps "
             "bumped increases increased")
CUT = _alt("cuts cut cutting lowers lowered lower lowering trims trimmed trim trimming reduces reduced "
           "reduce reducing slashes slashed slash slashing")
PULL = _alt("withdraws withdrew withdrawn pulls pulled suspends suspended scraps scrapped "
            "axes axed")
EXPECT = _alt("estimates estimate expectations consensus forecasts forecast views view "
              "guidance projections")
BUY = _alt("buy strong_buy outperform overweight accumulate market_outperform sector_outperform")
SELL = _alt("sell strong_sell underperform underweight market_underperform sector_underperform")
HOLD = _alt("hold neutral equal-weight equal_weight equalweight market_perform sector_perform "
            "in-line peer_perform sector_weight")
STAFF = _alt("jobs job positions staff workers employees workforce headcount personnel")
RESULT = _alt("profit profits income earnings ebit ebitda result")
# Quantities where "up" is good news; "sales fell" is negative even though "sales" is neutral.
METRIC = _alt(
    "net_sales sales revenues revenue turnover profits profit income earnings eps ebitda ebit result "
    "margins margin orders order_intake order_backlog backlog deliveries shipments exports volumes volume "
    "market_share traffic bookings cash_flow ebit_margin operating_margin same-store_sales "
    "comparable_sales subscribers users demand"
)
_W = r"(?:\S+\s+)"  # one filler word
NUM = r"[+]?\$?\d[\d,.]*\s*(?:%|percent|per\s+cent|pct|points|pts|bps|cents|basis\s+points)?"

# Hedges soften a claim ("could miss", "may cut"), matched on lowercase text. Title-case "May" is
# usually the month, so a text whose only hedge is "May" must show it as a verb (lowercase, or
# not next to a date).
HEDGE = re.compile(r"\b(?:might|could|possibly|perhaps|potentially|reportedly|rumou?red)\b")
_MAY_VERB = re.compile(r"\bmay\b|(?<!(?i:\bin ))(?<!(?i:\bof ))(?<!(?i:\bby ))(?<!(?i:until ))"
                       r"(?<!(?i:since ))\bMay\b(?![\s,]+\d)")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rewrite: `pattern.sub(repl, text)`, tried only when one of its trigger words occurs."""

    name: str
    triggers: tuple[str, ...]
    pattern: re.Pattern[str]
    repl: str | Callable[[re.Match[str]], str]


def _rule(name: str, triggers: str, pattern: str, repl: str | Callable[[re.Match[str]], str]) -> Rule:
    """Compile one rule; triggers are space-separated lowercase word starts, one of which must occur."""
    # Pad every replacement with spaces: a match that ends inside "3.40," must not glue the marker
    # to the next word, or VADER would not find it.
    if callable(repl):
        fn = repl
        padded: str | Callable[[re.Match[str]], str] = lambda m: f" {fn(m)} "  # noqa: E731
    else:
        padded = f" {repl} "
    return Rule(name, tuple(triggers.split()), re.compile(pattern), padded)


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
    if now == before or any(v.isdigit() and 1900 <= int(v) <= 2100 for v in (m["x"], m["y"])):
        return m[0]  # equal, or one side is a year rather than an amount
    cost_like = _COST_RE.fullmatch(m["metric"]) is not None
    # The whole comparison becomes one marker: its verbs ("up from") must not be scored again.
    return POS if (now > before) != cost_like else NEG


def _subject_move(m: re.Match[str]) -> str:
    """Replace 'costs ... rose' by a marker: a cost-like subject going up is bad, a result going up good."""
    up = m["up"] is not None or (m["down"] is None and m["better"] is not None)
    if m["cost"] is not None and (m["up"] or m["down"]):
        up = not up  # for cost-like subjects size and quality point opposite ways
    return f"{NIL}{m['mid']} {POS if up else NEG}"


_COST_RE = re.compile(COST)
_COST_TRIGGERS = ("cost expens loss deficit debt liabil unemploy jobless inflation provision impair write "
                  "charge default delinq loans npl layoff job redundan churn tariff uncertain concern fear "
                  "worr pressure short volatil outflow raw input fuel energy indebted")
_METRIC_TRIGGERS = ("sale revenue turnover profit income earning eps ebit result margin order backlog "
                    "deliver shipment export volume share traffic booking cash subscriber user demand")
_VERSUS = r"\b(?:from|compared\s+(?:to|with)|versus|vs\.?|against)\s+(?:an?\s+)?(?:\S+\s+){0,2}?"
_NOT_CLAUSE = r"(?!(?:and|but|while|whereas)\b)"  # do not reach into the next clause
_MID = rf"(?P<mid>(?:\s+{_NOT_CLAUSE}(?:[^\s.;]|\.(?=\d))+){{0,7}}?)"
_RATING_END = r"(?=\s*(?:$|[,.;:()\-\u2013]|(?:from|at|by|on|after|with|rating)\b))"

RULES: tuple[Rule, ...] = (
    # Switching sign between profit and loss decides the sentence, whatever the amounts.
    _rule("swung to loss", "loss red deficit",
          r"\b(?:swung|swings|swing|turned|turns|turn|fell|falls|slipped|slips|plunged|sank|dropped|went|"
          r"moved|slid)\s+(?:in)?to\s+(?:an?\s+)?(?:\S+\s+){0,2}?(?:loss|losses|deficit|the\s+red)\b", NEG2),
    _rule("swung to profit", "profit black earning income ebit result",
          rf"\b(?:swung|swings|swing|turned|turns|turn|returned|returns|return|back|moved)\s+(?:in)?to\s+"
          rf"(?:an?\s+)?(?:\S+\s+){{0,2}}?(?:{RESULT}|profitability|the\s+black)\b|\bturned\s+profitable\b",
          POS2),
    _rule("in the red/black", "red black", r"\bin\s+the\s+(?:(red)|black)\b",
          lambda m: NEG if m[1] else POS),
    _rule("loss versus profit", "loss", rf"\b(?:loss|losses)\b(?P<mid>{_SPAN}{{0,80}}?{_VERSUS}){RESULT}\b",
          rf"{NEG2}\g<mid>{NIL}"),
    _rule("profit versus loss", "loss", rf"\b{RESULT}\b(?P<mid>{_SPAN}{{0,80}}?{_VERSUS})(?:loss|losses)\b",
          rf"{POS2}\g<mid>{NIL}"),
    # "Pre-tax loss totalled EUR 0.3 mn, compared to a loss of EUR 2.2 mn": compare the amounts.
    _rule("amount versus amount", "compared from versus vs against",
          rf"\b(?P<metric>{COST}|{RESULT}|sales|revenue|revenues|turnover|orders|order\s+intake|margin)\b"
          rf"{_SPAN}{{0,60}}?\b(?:totall?ed|was|were|amounted\s+to|came\s+in\s+at|reached|stood\s+at|of|at|to)"
          rf"\s+{_amount_re('x')}{_SPAN}{{0,40}}?{_VERSUS}{_amount_re('y')}", _compare),
    _rule("costs stayed low", _COST_TRIGGERS,
          rf"\b{COST}\b{_MID}\s+(?:remained|remains|remain|stayed|stays|were|was|are|is)\s+(?:very\s+)?(?:low|small|"
          rf"modest|moderate|limited|minimal|negligible|under\s+control)\b", rf"{NIL}\g<mid> {POS}"),
    _rule("higher costs", _COST_TRIGGERS,
          rf"\b(?:(?P<up>higher|rising|increased|increasing|soaring|mounting|surging|growing|bigger|larger|"
          rf"wider|widening|increase\s+in|rise\s+in|jump\s+in|surge\s+in|growth\s+in)|lower|falling|reduced|"
          rf"declining|smaller|narrower|narrowing|decrease\s+in|decline\s+in|drop\s+in|fall\s+in|"
          rf"reduction\s+in|cut\s+in|cuts\s+in|savings\s+in)\s+(?:\S+\s+){{0,2}}?{COST}\b",
          lambda m: NEG if m["up"] else POS),
    # Subject moving: "costs rose" and "profit fell" negative, "loss narrowed" and "sales grew" positive.
    _rule("subject up/down", _COST_TRIGGERS + " " + _METRIC_TRIGGERS,
          rf"\b(?:(?P<cost>{COST})|{METRIC})\b{_MID}\s+(?:(?P<up>{UP})|(?P<down>{DOWN})|(?P<better>{IMPROVE})|{WORSEN})\b",
          _subject_move),
    _rule("cuts costs", "cost expens debt tariff",
          rf"\b(?:{CUT}|pays?\s+down|paid\s+down|repaid|repays?|slim(?:s|med)?|rein(?:s|ed)?\s+in)\s+"
          rf"(?:\S+\s+){{0,2}}?(?:costs?|expenses|debts?|tariffs)\b", POS),
    _rule("cost savings", "cost",
          r"\bcost[\s-]+(?:savings?|cuts|cutting|reductions?|efficienc(?:y|ies)|synerg\w*)\b", POS),
    # Layoffs are bad news whatever the verb.
    _rule("job cuts", "job staff work employ position headcount personnel laid lay redundan negotiation",
          rf"\b(?:{CUT}|eliminat\w*|shed\w*|axe[sd]?|slash\w*)\s+(?:\S+\s+){{0,3}}?{STAFF}\b"
          r"|\b(?:job|staff|workforce|headcount)\s+(?:cuts|reductions?|losses)\b"
          r"|\b(?:lay|lays|laying)\s+off\b|\blaid\s+off\b"
          r"|\b(?:personnel|co-?operation|change)\s+negotiations\b", NEG2),
    _rule("job creation", "job position worker employee staff",
          r"\b(?:create|creates|created|creating|add|adds|added|adding|hire|hires|hired|hiring)\s+(?:\S+\s+){0,3}?"
          r"(?:jobs|positions|workers|employees|staff)\b", POS),
    # Investors buying or selling a stock: "hedge funds are snapping up X".
    _rule("investors buying", "buy snap pil load accumul sell dump exit flee",
          r"\b(?:funds|investors|insiders|institutions|buyers|bulls|whales)\s+(?:are\s+|were\s+|keep\s+|aren[’']t\s+done\s+)?"
          r"(?:(?P<buy>buying|snapping\s+up|piling\s+into|loading\s+up|accumulating)|selling|dumping|exiting|fleeing)\b",
          lambda m: POS if m["buy"] else NEG),
    # Closing sites is restructuring: bad news for the company's business, like job cuts.
    _rule("closures", "shut clos",
          r"\b(?:shut|shuts|shutting|close|closes|closed|closing)\s+(?:down\s+)?(?:\S+\s+){0,2}?(?:plants?|factory|"
          r"factories|mills?|units?|stores?|shops?|branches|offices?|sites?|operations|production)\b"
          r"|\b(?:plant|factory|mill|store|branch|site)\s+closures?\b|\bclosure\s+of\b", NEG),
    # Analysts: price targets, ratings, guidance; "cuts price target" negative, "raises" positive.
    _rule("raise/cut target", "rais lift boost hike up bump increase cut lower trim reduc slash",
          rf"\b(?:(?P<up>{RAISE})|{CUT})\s+{_W}{{0,4}}?{TARGET}\b|\b{TARGET}\s+(?:(?P<up2>{RAISE})|{CUT})\b",
          lambda m: POS2 if m["up"] or m["up2"] else NEG2),
    # Acting on results: "will lift earnings" positive, "weighs on demand" negative.
    _rule("lift/hurt results", _METRIC_TRIGGERS,
          rf"\b(?:(?P<up>{RAISE}|lift|lifts|boost|boosts|boosted|improve|improves|improved|strengthen\w*|support\w*|"
          rf"drive|drives|drove|driving)|hurt|hurts|hit|hits|weigh\w*\s+on|dent\w*|erode\w*|squeez\w*|{CUT}|"
          rf"weaken\w*|cut\s+into)\s+(?:\S+\s+){{0,2}}?{METRIC}\b", lambda m: POS if m["up"] else NEG),
    _rule("hit by", "by",
          r"\b(?:(?P<good>(?:positively|favourably|favorably)\s+(?:affected|impacted|influenced)|supported|helped)|"
          r"hit|hurt|dragged(?:\s+down)?|weighed\s+down|squeezed|dented|burdened|(?:negatively|adversely|"
          r"unfavourably|unfavorably)\s+(?:affected|impacted|influenced))\s+by\b",
          lambda m: POS if m["good"] else NEG),
    # Winning business: "received an order", "won a contract".
    _rule("order won", "order contract deal",
          r"\b(?:received|receives|receive|won|wins|win|winning|secured|secures|secure|awarded|landed|lands|bagged|"
          r"bags|booked|books)\s+(?:\S+\s+){0,4}?(?:orders?|contracts?|deals?)\b", POS),
    _rule("pull guidance", "withdr pull suspend scrap axe",
          rf"\b{PULL}\s+{_W}{{0,3}}?{TARGET}\b|\b{TARGET}\s+{PULL}\b", NEG2),
    _rule("up/downgrade to hold", "hold neutral weight equal perform line",
          rf"\b(?:(?P<up>{RAISE}|upgrade[sd]?|moves?\s+up)|{CUT}|downgrade[sd]?|moves?\s+down)\s+{_W}{{0,4}}?"
          rf"to\s+{HOLD}\b", lambda m: POS2 if m["up"] else NEG2),
    # "started at Buy", "Buy rating", "upgraded to Buy" -- but not "plans to buy a rival".
    _rule("rated buy/sell", "buy outperform overweight accumulate sell underperform underweight",
          rf"\b(?:at|with)\s+(?:an?\s+)?(?:(?P<b1>{BUY})|{SELL})\b|\b(?:(?P<b2>{BUY})|{SELL})\s+"
          rf"(?:rating|recommendation)\b|\bto\s+(?:(?P<b3>{BUY})|{SELL}){_RATING_END}",
          lambda m: POS if m["b1"] or m["b2"] or m["b3"] else NEG),
    # Results against expectations.
    _rule("beat/miss estimates", "beat top exceed surpass above ahead miss below short shy lag trail under "
          "than",
          rf"\b(?:(?P<beat>beat|beats|beating|tops|topped|topping|exceeds?|exceeded|surpass\w*|above|ahead\s+of)|"
          rf"miss\w*|below|short\s+of|shy\s+of|lag\w*|trail\w*|under)\s+{_W}{{0,2}}?{EXPECT}\b"
          r"|\b(?:falls?|fell|coming|comes|came)\s+(?:up\s+|in\s+)?short\b"
          r"|\b(?:(?P<better>better|stronger|higher|greater|faster)|worse|weaker|lower|smaller|slower)\s+than\s+"
          r"(?:\S+\s+){0,6}?(?:expected|anticipated|forecast|estimated|predicted|feared|hoped)\b",
          lambda m: POS2 if m["beat"] or m["better"] else NEG2),
    # Outlook against the previous period: "profit will be below last year's level", "clearly lower
    # than in 2008". Cost-like subjects were handled above, so what is left is a result.
    _rule("versus last year", "below above than",
          r"\b(?:(?P<up>above)|below)\s+(?:\S+\s+){0,2}?(?:level|year's|year|period|quarter's|quarter)\b"
          r"|\b(?:(?P<up2>higher|better|stronger|greater)|lower|worse|weaker|smaller)\s+than\s+(?:in\s+|during\s+|"
          r"for\s+|a\s+)?(?:the\s+)?(?:previous|last|prior|corresponding|comparison|year|(?:19|20)\d\d)\b",
          lambda m: POS if m["up"] or m["up2"] else NEG),
    _rule("in line", "line", rf"\bin\s+line\s+with\s+{_W}{{0,2}}?{EXPECT}\b", NIL),
    _rule("profit warning", "warning", r"\b(?:profit|earnings|sales|revenue)\s+warnings?\b", NEG2),
    # Record highs and lows. "Of record", "record date" and "capital increase" are mechanics, not news.
    _rule("record date", "record", r"\b(?:of|on)\s+record\b|\brecord\s+date\b", NIL),
    _rule("subject to approval", "subject",
          r"\bsubject\s+to\s+(?:\S+\s+){0,2}?(?:approvals?|consent)\b", NIL),
    _rule("capital increase", "capital", r"\b(?:share\s+)?capital\s+increase\b|\bincrease\s+(?:in\s+|of\s+)?"
          r"(?:its\s+|the\s+)?share\s+capital\b", NIL),
    _rule("record high/low", "record all multi week month year",
          r"\b(?:record|all-time|all\s+time|multi-year|\d+-(?:week|month|year))\s+(?:(?P<bad>lows?|loss|losses|"
          r"deficit)|highs?|revenues?|sales|profits?|earnings|quarter|year|results|levels?|orders|income)\b",
          lambda m: NEG if m["bad"] else POS),
    # Bare moves in numbers: "rose 5%" comes from the lexicon; "up 5%", "down 5%", "+2%", "-6%".
    _rule("up/down N", "up down higher lower",
          rf"\b(?:(?P<up>up)|down)\s+(?:by\s+|as\s+much\s+as\s+|about\s+|nearly\s+|almost\s+)?{NUM}"
          r"|\b(?:(?P<upf>up)|down)\s+from\b"
          r"|\b(?:went|goes|go|gone|going|moved|moves|edged|edges|ticked|ticks|inched|inches|came|comes|trending)"
          r"\s+(?:(?P<upw>up)|down)\b"
          r"|\b(?:is|are|was|were|been|trading|trades|shares|stock|stocks)\s+(?:(?P<upv>up)|down)\b"
          rf"|(?<!\S){NUM}\s+(?:(?P<uph>higher)|lower)\b",
          lambda m: POS if (m["up"] or m["upf"] or m["upv"] or m["upw"] or m["uph"]) else NEG),
    _rule("+N%", "%", r"(?<!\S)(?:(?P<plus>\+)|[-\u2212\u2013])\d[\d.,]*\s?%",
          lambda m: POS if m["plus"] else NEG),
)


def _trigger_index(rules: Sequence[Rule]) -> tuple[re.Pattern[str], dict[str, frozenset[int]]]:
    """Return one regex finding every trigger occurrence, and the rules each found trigger enables."""
    # One scan of the text replaces ~30 per-rule searches. Triggers are word starts ("expens",
    # "withdr"), or "%", so the scan only tries word boundaries. The lookahead lets matches
    # overlap; where several triggers start at one position the longest is reported, so each
    # trigger also enables the rules of every trigger that is a prefix of it.
    stems = sorted({t for r in rules for t in r.triggers}, key=len, reverse=True)
    finder = re.compile(r"(?:\b|(?=%))(?=(" + "|".join(re.escape(t) for t in stems) + "))")
    enables = {s: frozenset(i for i, r in enumerate(rules) for t in r.triggers if s.startswith(t))
               for s in stems}
    return finder, enables


_FINDER, _ENABLES = _trigger_index(RULES)


def rewrite(text: str) -> str:
    """Apply every rule whose trigger occurs in the lowercased text and return the rewritten text."""
    # Rules match lowercase text case-sensitively: several times faster than re.IGNORECASE.
    found = set(_FINDER.findall(text))
    if not found:
        return text
    active = frozenset().union(*(_ENABLES[s] for s in found))
    for i, rule in enumerate(RULES):
        if i in active:
            text = rule.pattern.sub(rule.repl, text)
    return text


def is_hedged(text: str, lowered: str | None = None) -> bool:
    """Return True when the text hedges its claim with may/might/could/reportedly and the like."""
    low = text.lower() if lowered is None else lowered
    if HEDGE.search(low):
        return True
    return "may" in low and _MAY_VERB.search(text) is not None
