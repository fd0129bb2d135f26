"""Data-quality gate for bar frames: quarantine bad rows, let the good rows of the batch through.

Row rules run twice on purpose: as vectorized pandas masks (which also feed the helper columns GX has
no built-in for) and as Great Expectations expectations. The quarantine is the union of both, and
any disagreement is reported in the outcome's details; the tests hold them to exact agreement.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tradebot.domain.market import BAR_COLUMNS
from tradebot.errors import DataError
from tradebot.quality.batch_checks import MAX_LISTED, freshness_outcome, sessions_outcome
from tradebot.quality.gx_runner import RuleSpec, run_rules
from tradebot.quality.outcome import ExpectationOutcome, GateOutcome

log = logging.getLogger(__name__)

PRICES = ("open", "high", "low", "close")
KEYS = ["symbol", "timeframe"]
SUITE = "tradebot_bars_v1"  # bump when BAR_RULES change: the cached GX suite is keyed by this name

# Jump detection. 1.4826 turns a median absolute deviation into a normal-equivalent sigma.
MAD_TO_SIGMA = 1.4826
# Below 20 returns the MAD is too noisy to call anything a jump; such groups are skipped (and said so).
MIN_RETURNS_FOR_JUMP = 20
# Illiquid symbols often have most minute returns exactly 0, so MAD is 0 and every tick would be an
# "8-sigma" jump. A 10 bp floor means the smallest move ever flagged is jump_sigmas * 0.1 % (0.8 %).
SIGMA_FLOOR = 1e-3
HISTORY_ROWS = 500  # last_stored rows per symbol used as history; plenty for a MAD, bounded cost

# Helper columns: GX has no built-in for per-group order or jumps, so pandas precomputes a boolean
# "row is fine" column and GX checks it is in {True}.
TS_INCREASING = "_ts_increasing"
CLOSE_NO_JUMP = "_close_no_jump"
TS_NOT_FUTURE = "_ts_not_future"


def _rule(name: str, subject: str | None, gx_type: str, **kwargs: Any) -> RuleSpec:
    # subject is the bar column the rule is about; kwargs go to the GX expectation as they are.
    return RuleSpec(name=name, column=subject, gx_type=gx_type, kwargs=tuple(kwargs.items()))


def _pair(name: str, subject: str, a: str, b: str) -> RuleSpec:
    # a >= b; rows with a NaN are left to the not-null rules so each row reports only what it broke.
    return _rule(
        name, subject, "ExpectColumnPairValuesAToBeGreaterThanB",
        column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing",
    )


def _flag(name: str, column: str, helper: str) -> RuleSpec:
    return _rule(name, column, "ExpectColumnValuesToBeInSet", column=helper, value_set=[True])


BAR_RULES: tuple[RuleSpec, ...] = (
    *(_rule(f"{c}_not_null", c, "ExpectColumnValuesToNotBeNull", column=c) for c in BAR_COLUMNS),
    # The finite upper bound makes +inf fail too; NaN counts as "missing" in GX and is left to not_null.
    *(
        _rule(f"{c}_positive", c, "ExpectColumnValuesToBeBetween",
              column=c, min_value=0.0, strict_min=True, max_value=sys.float_info.max)
        for c in PRICES
    ),
    _rule("volume_non_negative", "volume", "ExpectColumnValuesToBeBetween",
          column="volume", min_value=0.0, max_value=sys.float_info.max),
    _pair("high_ge_open", "high", "high", "open"),
    _pair("high_ge_close", "high", "high", "close"),
    _pair("high_ge_low", "high", "high", "low"),
    _pair("low_le_open", "low", "open", "low"),
    _pair("low_le_close", "low", "close", "low"),
    # GX flags every copy of a duplicated key (keep=False), which is what the quarantine wants.
    _rule("ts_unique", "ts", "ExpectCompoundColumnsToBeUnique",
          column_list=["symbol", "timeframe", "ts"], ignore_row_if="any_value_is_missing"),
    _flag("ts_increasing", "ts", TS_INCREASING),
    _flag("close_no_jump", "close", CLOSE_NO_JUMP),
    _flag("ts_not_future", "ts", TS_NOT_FUTURE),
)
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in BAR_RULES)


def _ts_ints(ts: pd.Series) -> np.ndarray:
    """Return ts as int64 (NaT -> min int) in one unit, for fast group comparisons."""
    return ts.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns").to_numpy().view("int64")


def _group_codes(frame: pd.DataFrame, ok: np.ndarray) -> np.ndarray:
    """Return an int code per (symbol, timeframe), -1 where a key is null."""
    codes = np.full(len(frame), -1, dtype=np.int64)
    if ok.any():
        codes[ok] = frame.loc[ok].groupby(KEYS, sort=False).ngroup().to_numpy()
    return codes


def _out_of_order(codes: np.ndarray, ts: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Flag rows whose ts is below the running max of earlier rows of the same group."""
    # Running max (not just the previous row) so a late row cannot hide behind an earlier late one.
    # Equal ts is a duplicate, reported by ts_unique instead.
    bad = np.zeros(len(ts), dtype=bool)
    idx = np.flatnonzero(ok)
    if idx.size < 2:
        return bad
    s = pd.Series(ts[idx])
    prev_max = s.groupby(codes[idx]).cummax().groupby(codes[idx]).shift(1)
    bad[idx] = (s < prev_max).to_numpy()
    return bad


def _jump_mask(
    work: pd.DataFrame, eligible: np.ndarray, sigmas: float, last_stored: pd.DataFrame | None
) -> tuple[np.ndarray, list[str]]:
    """Flag close-to-close moves beyond `sigmas` robust sigmas; return the mask and skipped groups."""
    flags = np.zeros(len(work), dtype=bool)
    cur = work.loc[eligible, [*KEYS, "ts", "close"]].assign(_pos=np.flatnonzero(eligible))
    if cur.empty:
        return flags, []
    frames = [cur]
    if last_stored is not None and len(last_stored):
        hist = last_stored.loc[:, [*KEYS, "ts", "close"]].copy()
        hist["close"] = pd.to_numeric(hist["close"], errors="coerce").astype("float64")
        valid = hist[KEYS + ["ts"]].notna().all(axis=1) & np.isfinite(hist["close"]) & (hist["close"] > 0)
        first = cur.groupby(KEYS, sort=False)["ts"].min().rename("_first").reset_index()
        hist = hist[valid].merge(first, on=KEYS, how="inner")
        # Only history strictly before the batch: a re-ingested overlap must not vouch for itself.
        hist = hist[hist["ts"] < hist["_first"]].drop(columns="_first")
        hist = hist.drop_duplicates([*KEYS, "ts"], keep="last").sort_values([*KEYS, "ts"])
        frames.insert(0, hist.groupby(KEYS, sort=False).tail(HISTORY_ROWS).assign(_pos=-1))
    allr = pd.concat(frames, ignore_index=True)
    codes = allr.groupby(KEYS, sort=False).ngroup().to_numpy()
    order = np.lexsort((_ts_ints(allr["ts"]), codes))
    code = codes[order]
    pos = allr["_pos"].to_numpy()[order]
    logc = np.log(allr["close"].to_numpy(dtype="float64")[order])

    r = np.full(len(logc), np.nan)
    r2 = np.full(len(logc), np.nan)
    same1 = code[1:] == code[:-1]
    r[1:] = np.where(same1, logc[1:] - logc[:-1], np.nan)
    same2 = code[2:] == code[:-2]
    r2[2:] = np.where(same2, logc[2:] - logc[:-2], np.nan)

    by = pd.Series(r).groupby(code)
    med = by.transform("median").to_numpy()
    count = by.transform("count").to_numpy()
    mad = pd.Series(np.abs(r - med)).groupby(code).transform("median").to_numpy()
    sigma = np.maximum(MAD_TO_SIGMA * np.nan_to_num(mad), SIGMA_FLOOR)
    enough = count >= MIN_RETURNS_FOR_JUMP
    cand = enough & (np.abs(r - med) > sigmas * sigma)
    # One bad print makes two big returns (into the spike and back out). The bar after a flagged
    # bar is excused when it is back in line with the bar before the spike.
    prev_cand = np.zeros(len(cand), dtype=bool)
    prev_cand[1:] = cand[:-1] & same1
    back = np.abs(r2 - 2 * med) <= sigmas * sigma * math.sqrt(2)
    flag = cand & ~(prev_cand & back) & (pos >= 0)
    flags[pos[flag]] = True

    skipped_codes = np.unique(code[~enough & (pos >= 0)])
    # code is sorted (lexsort's primary key), so searchsorted finds each group's first row.
    first_rows = order[np.searchsorted(code, skipped_codes)]
    skipped = [f"{s}/{t}" for s, t in allr[KEYS].to_numpy()[first_rows]]
    return flags, skipped


def bar_row_masks(
    work: pd.DataFrame,
    *,
    now: datetime | None = None,
    jump_sigmas: float = 8.0,
    last_stored: pd.DataFrame | None = None,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Return {rule name: bool array, True = row fails} in pure pandas/numpy, and jump-skipped groups."""
    n = len(work)
    masks: dict[str, np.ndarray] = {}
    null = {c: work[c].isna().to_numpy() for c in BAR_COLUMNS}
    for c in BAR_COLUMNS:
        masks[f"{c}_not_null"] = null[c]
    vals = {c: work[c].to_numpy(dtype="float64") for c in (*PRICES, "volume")}
    with np.errstate(invalid="ignore"):
        for c in PRICES:
            masks[f"{c}_positive"] = ~null[c] & ~((vals[c] > 0) & (vals[c] <= sys.float_info.max))
        v = vals["volume"]
        masks["volume_non_negative"] = ~null["volume"] & ~((v >= 0) & (v <= sys.float_info.max))
        for name, a, b in (
            ("high_ge_open", "high", "open"), ("high_ge_close", "high", "close"),
            ("high_ge_low", "high", "low"), ("low_le_open", "open", "low"), ("low_le_close", "close", "low"),
        ):
            masks[name] = ~null[a] & ~null[b] & ~(vals[a] >= vals[b])

    key_ok = ~null["symbol"] & ~null["timeframe"] & ~null["ts"]
    masks["ts_unique"] = key_ok & work.duplicated(subset=[*KEYS, "ts"], keep=False).to_numpy()
    codes = _group_codes(work, key_ok)
    ts = _ts_ints(work["ts"])
    masks["ts_increasing"] = _out_of_order(codes, ts, key_ok)

    # A jump is judged only on rows that could be stored: a negative close or a late row would
    # otherwise poison the returns of its innocent neighbours.
    close = vals["close"]
    with np.errstate(invalid="ignore"):
        close_ok = ~null["close"] & (close > 0) & np.isfinite(close)
    eligible = key_ok & close_ok & ~masks["ts_unique"] & ~masks["ts_increasing"]
    masks["close_no_jump"], skipped = _jump_mask(work, eligible, jump_sigmas, last_stored)

    if now is None:
        masks["ts_not_future"] = np.zeros(n, dtype=bool)
    else:
        masks["ts_not_future"] = ~null["ts"] & (work["ts"] > pd.Timestamp(now)).to_numpy()
    return masks, skipped


def _normalize(df: pd.DataFrame) -> pd.DataFrame:
    """Return the bar columns with prices/volume as float64 (unparseable -> NaN) and a positional index."""
    missing = [c for c in BAR_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"bar frame is missing columns {missing}; expected exactly {list(BAR_COLUMNS)}")
    if not isinstance(df["ts"].dtype, pd.DatetimeTZDtype):
        raise DataError(f"bar column ts must be tz-aware UTC datetimes, got dtype {df['ts'].dtype}; "
                        "convert with pd.to_datetime(..., utc=True) in the adapter")
    work = df.loc[:, list(BAR_COLUMNS)].reset_index(drop=True)
    for c in (*PRICES, "volume"):
        if work[c].dtype != "float64":
            work[c] = pd.to_numeric(work[c], errors="coerce").astype("float64")
    return work


def _row_outcome(rule: RuleSpec, bad: np.ndarray, n: int, labels: pd.Index, note: str) -> ExpectationOutcome:
    rows = np.flatnonzero(bad)
    sample = ", ".join(str(x) for x in labels[rows[:MAX_LISTED]])
    details = rule.gx_type + (f"; first failing index labels: [{sample}]" if rows.size else "") + note
    return ExpectationOutcome(
        expectation=rule.name, column=rule.column, success=rows.size == 0,
        unexpected_count=int(rows.size), element_count=n, details=details,
    )


def _empty(df: pd.DataFrame, batch: str, started: float) -> GateOutcome:
    cols = list(df.columns) if len(df.columns) else list(BAR_COLUMNS)
    good = df.loc[:, cols] if len(df.columns) else pd.DataFrame(columns=cols)
    outcomes = tuple(
        ExpectationOutcome(r.name, r.column, True, 0, 0, r.gx_type + "; empty batch") for r in BAR_RULES
    )
    return GateOutcome(
        batch=batch, kind="bars", good=good, quarantined=good.assign(failed=pd.Series(dtype="str")),
        expectations=outcomes, success=True, seconds=time.perf_counter() - started,
    )


def validate_bars(
    df: pd.DataFrame,
    *,
    batch: str,
    now: datetime | None = None,
    max_staleness: timedelta | None = None,
    jump_sigmas: float = 8.0,
    last_stored: pd.DataFrame | None = None,
) -> GateOutcome:
    """Validate a bar frame row by row; bad rows are quarantined with the rules they broke."""
    started = time.perf_counter()
    if now is not None and now.tzinfo is None:
        raise ValueError("validate_bars: now must be timezone-aware (UTC)")
    if last_stored is not None and (gone := [c for c in (*KEYS, "ts", "close") if c not in last_stored]):
        raise DataError(f"last_stored frame is missing columns {gone}; pass stored bars as BAR_COLUMNS")
    if len(df) == 0:
        return _empty(df, batch, started)
    work = _normalize(df)
    n = len(work)
    masks, skipped = bar_row_masks(work, now=now, jump_sigmas=jump_sigmas, last_stored=last_stored)
    gx_frame = work.assign(**{
        TS_INCREASING: ~masks["ts_increasing"],
        CLOSE_NO_JUMP: ~masks["close_no_jump"],
        TS_NOT_FUTURE: ~masks["ts_not_future"],
    })
    results = run_rules(SUITE, BAR_RULES, gx_frame)

    bad_by_rule: list[np.ndarray] = []
    outcomes: list[ExpectationOutcome] = []
    for rule in BAR_RULES:
        res, mask = results[rule.name], masks[rule.name]
        note = ""
        if res.unexpected_index is None:
            note = f"; GX could not evaluate ({res.error}); pandas mask used"
            bad = mask
        else:
            gx_bad = np.zeros(n, dtype=bool)
            gx_bad[res.unexpected_index.astype(np.int64)] = True
            bad = gx_bad | mask  # never let a row through that either implementation rejects
            if not np.array_equal(gx_bad, mask):
                note = f"; GX and pandas disagree (GX {gx_bad.sum()}, pandas {mask.sum()}); union kept"
                log.warning("quality gate %s: rule %s%s", batch, rule.name, note)
        if rule.name == "close_no_jump" and skipped:
            shown = ", ".join(skipped[:MAX_LISTED]) + (" ..." if len(skipped) > MAX_LISTED else "")
            note += f"; skipped (< {MIN_RETURNS_FOR_JUMP} returns): {shown}"
        if rule.name == "ts_not_future" and now is None:
            note += "; not checked (no now given)"
        bad_by_rule.append(bad)
        outcomes.append(_row_outcome(rule, bad, n, df.index, note))

    matrix = np.column_stack(bad_by_rule)
    any_bad = matrix.any(axis=1)
    names = np.array(RULE_NAMES, dtype=object)
    failed = [",".join(names[row]) for row in matrix[any_bad]]

    # Everything below is positional, so a caller's index with repeated labels cannot misalign rows.
    extra = [c for c in df.columns if c not in BAR_COLUMNS]
    good = pd.concat([work, df[extra].reset_index(drop=True)], axis=1) if extra else work
    good = good.set_axis(df.index)[~any_bad]
    quarantined = df[any_bad].assign(failed=pd.array(failed, dtype="str"))

    if now is not None and max_staleness is not None:
        symbols = sorted(work["symbol"].dropna().unique().tolist())
        outcomes.append(freshness_outcome(good, symbols, now, max_staleness))
    sessions = sessions_outcome(good, last_stored)
    if sessions is not None:
        outcomes.append(sessions)
    outcome = GateOutcome(
        batch=batch, kind="bars", good=good, quarantined=quarantined, expectations=tuple(outcomes),
        success=all(o.success for o in outcomes), seconds=time.perf_counter() - started,
    )
    log.info("quality gate %s", outcome.summary())
    return outcome
