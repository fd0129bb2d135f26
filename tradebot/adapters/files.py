"""Bar and earnings files: daily S&P CSVs, Binance kline CSVs, and our canonical CSV/Parquet.

Every reader returns the one bar contract: columns BAR_COLUMNS, ts the bar's open time as a
tz-aware UTC datetime (daily stock bars at the session date 00:00 UTC), prices and volume float64,
sorted by (symbol, ts) on a RangeIndex.

Only structural problems raise DataError (missing path, empty file, wrong columns, times that do
not parse), each as one line naming the file, the problem and the fix. Bad numbers (NaN, negative,
high < low, duplicates) are kept as they are: the validation gate quarantines them row by row, and
a reader that silently dropped them would hide the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tradebot.domain import BAR_COLUMNS, DAILY, EarningsEvent, EarningsHour, Symbol
from tradebot.errors import DataError

_PRICE_COLS = ("open", "high", "low", "close", "volume")
_SP_COLS = ("date", "open", "high", "low", "close", "volume", "Name")
_BINANCE_COLS = ("date", "open", "high", "low", "close", "volume", "close_time")
_LAYOUTS = {"canonical": BAR_COLUMNS, "daily S&P": _SP_COLS, "Binance kline": _BINANCE_COLS}
_EARNINGS_COLS = ("symbol", "date", "eps_est", "eps", "release_time")  # qtr and surp are optional
_SUFFIXES = (".csv", ".parquet")
_UNITS = {"s": "Sec", "sec": "Sec", "m": "Min", "min": "Min", "h": "Hour", "hour": "Hour", "d": "Day",
          "day": "Day", "w": "Week", "week": "Week", "M": "Month", "mo": "Month", "month": "Month"}
# "# Market: SPOT | Symbol: BTCUSDT | Timeframe: 1h" and names like binance_spot_SOLUSDT-1m_2023....csv
_META_SYMBOL = re.compile(r"Symbol:\s*([A-Za-z0-9._/-]+)")
_META_TIMEFRAME = re.compile(r"Timeframe:\s*(\w+)")
_NAME_PATTERN = re.compile(r"([A-Z0-9]{4,})-(\d+[smhdwM])(?=[_.-])")


def normalize_timeframe(timeframe: str) -> str:
    """Return the canonical spelling ("1Min", "5Min", "1Hour", "1Day") of a Binance or canonical timeframe."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]+)\s*", timeframe)
    # Binance's "1M" is a month and "1m" a minute, so only a bare "M" keeps its case.
    unit = None if m is None else _UNITS.get(m.group(2) if m.group(2) == "M" else m.group(2).lower())
    if m is None or unit is None:
        raise ValueError(f"unknown timeframe {timeframe!r}; use e.g. 1Min, 5Min, 1Hour or 1Day")
    return f"{int(m.group(1))}{unit}"


def read_bars(path: str | Path, symbols: Sequence[str] | None = None,
              timeframe: str | None = None) -> pd.DataFrame:
    """Read bars from a .csv/.parquet file or a folder of them into the BAR_COLUMNS contract."""
    root = Path(path)
    frames = [_read_file(f) for f in _data_files(root)]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if timeframe is not None:
        try:
            wanted_tf = normalize_timeframe(timeframe)
        except ValueError as exc:
            raise DataError(f"{root}: {exc}") from None
        if not (df["timeframe"] == wanted_tf).any():
            raise DataError(f"{root}: no {wanted_tf} bars; available timeframes: "
                            f"{_listing(df['timeframe'])}; ask for one of those")
        df = df[df["timeframe"] == wanted_tf]
    if symbols is not None:
        available = set(df["symbol"])
        missing = [s for s in symbols if s not in available]
        if missing:
            raise DataError(f"unknown symbol(s) {', '.join(missing)} in {root}; available: "
                            f"{_listing(df['symbol'])}")
        df = df[df["symbol"].isin(list(symbols))]
    # Stable sort: duplicate bars keep their file order for the validation gate to judge.
    return df.sort_values(["symbol", "ts"], kind="stable").reset_index(drop=True)


def write_bars(df: pd.DataFrame, path: str | Path) -> None:
    """Write bars in the canonical layout, as CSV or Parquet according to the file suffix."""
    target = Path(path)
    missing = [c for c in BAR_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{target}: cannot write bars: missing column(s) {', '.join(missing)} "
                        f"(have {', '.join(map(str, df.columns))}); pass a BAR_COLUMNS frame")
    out = df.loc[:, list(BAR_COLUMNS)]
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        out.to_csv(target, index=False)
    elif suffix == ".parquet":
        out.to_parquet(target, index=False)
    else:
        raise DataError(f"{target}: cannot write bars as '{suffix}'; name the file .csv or .parquet")


def read_earnings_csv(path: str | Path, symbols: Sequence[str] | None = None) -> list[EarningsEvent]:
    """Read an earnings CSV (symbol,date M/D/YY,qtr,eps_est,eps,release_time pre/post,surp), in file order."""
    file = Path(path)
    _check_file(file)
    try:
        df = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: not a readable earnings CSV ({_first_line(exc)})") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _EARNINGS_COLS if c not in df.columns]
    if missing:
        raise DataError(f"{file}: missing earnings column(s) {', '.join(missing)} (found: "
                        f"{', '.join(df.columns)}); expected symbol,date,qtr,eps_est,eps,release_time,surp")
    if df.empty:
        raise DataError(f"{file}: no earnings rows under the header; check the export")
    df["symbol"] = df["symbol"].str.strip()
    _require_values(df, "symbol", file, header_line=1)
    if symbols is not None:
        df = df[df["symbol"].isin(list(symbols))].reset_index(drop=True)
    dates = pd.to_datetime(df["date"].str.strip(), format="%m/%d/%y", errors="coerce")
    bad = dates.isna()
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise DataError(f"{file}: unparseable date {df['date'].iloc[i]!r} for {df['symbol'].iloc[i]}; "
                        f"dates must be M/D/YY like 2/14/13")
    # Few distinct spellings: parse each once, not once per row (73k rows read in well under a second).
    hour_of = {t: _HOURS.get(t.strip().lower(), EarningsHour.UNKNOWN) for t in df["release_time"].unique()}
    qtr = df["qtr"] if "qtr" in df.columns else pd.Series([""] * len(df))
    quarter_of = {t: _quarter(t) for t in qtr.unique()}
    return [EarningsEvent(Symbol(sym), day, hour_of[hour], est, act, quarter=qy[0], year=qy[1])
            for sym, day, hour, est, act, qy in zip(
                df["symbol"].tolist(), dates.dt.date.tolist(), df["release_time"].tolist(),
                _numbers(df["eps_est"]), _numbers(df["eps"]), qtr.map(quarter_of).tolist(), strict=True)]


_HOURS = {"pre": EarningsHour.BEFORE_OPEN, "bmo": EarningsHour.BEFORE_OPEN, "post": EarningsHour.AFTER_CLOSE,
          "amc": EarningsHour.AFTER_CLOSE, "dmh": EarningsHour.DURING, "during": EarningsHour.DURING}
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}


def _quarter(text: str) -> tuple[int | None, int | None]:
    # "17-Jun" is the calendar quarter ending June 2017; "Q2" gives no year; "NULL" gives nothing.
    text = text.strip()
    if m := re.fullmatch(r"(\d{2})-([A-Za-z]{3})", text):
        month = _MONTHS.get(m.group(2).lower())
        return (None, None) if month is None else ((month - 1) // 3 + 1, 2000 + int(m.group(1)))
    if m := re.fullmatch(r"[Qq]([1-4])", text):
        return int(m.group(1)), None
    return None, None


def _numbers(col: pd.Series) -> list[float | None]:
    values = pd.to_numeric(col.str.strip().replace({"NULL": "", "null": "", "NA": "", "nan": ""}),
                           errors="coerce")
    return [None if v != v else v for v in values.to_numpy(dtype="float64").tolist()]  # v != v: NaN


# -- reading one bar file -----------------------------------------------------------------------


def _data_files(root: Path) -> list[Path]:
    if not root.exists():
        raise DataError(f"{root}: no such file or folder; check the path (data.path in the config)")
    if root.is_file():
        if root.suffix.lower() not in _SUFFIXES:
            raise DataError(f"{root}: unsupported file type '{root.suffix}'; bar files are .csv or .parquet")
        return [root]
    # Folders are read recursively; licence texts and hidden files sit beside the data and are skipped.
    files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES
                   and not any(part.startswith(".") for part in f.relative_to(root).parts))
    if not files:
        raise DataError(f"{root}: folder holds no .csv or .parquet files; point at a folder of bar files")
    return files


def _check_file(file: Path) -> None:
    if not file.is_file():
        raise DataError(f"{file}: no such file; check the path")
    if file.stat().st_size == 0:
        raise DataError(f"{file}: file is empty; expected a header line and rows")


def _read_file(file: Path) -> pd.DataFrame:
    if file.suffix.lower() == ".parquet":
        try:
            raw = pd.read_parquet(file)
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise DataError(f"{file}: not a readable Parquet file ({_first_line(exc)}); rewrite it") from None
        if raw.empty:
            raise DataError(f"{file}: file holds no rows; remove it or rewrite it")
        return _from_canonical(raw, file, header_line=0)
    _check_file(file)
    meta, header, skip = _csv_head(file)
    layout = _detect(header, meta, file)
    try:
        raw = pd.read_csv(file, skiprows=skip, skipinitialspace=True, dtype={"symbol": str, "Name": str},
                          encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: malformed CSV ({_first_line(exc)}); fix or remove the file") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        raise DataError(f"{file}: no rows under the header; remove the file or fill it")
    header_line = skip + 1
    if layout == "canonical":
        return _from_canonical(raw, file, header_line)
    if layout == "daily S&P":
        _require_values(raw, "Name", file, header_line)
        ts = _parse_ts(raw["date"], file, "date", header_line)  # the session date, 00:00 UTC
        return _frame(raw["Name"].astype(str), DAILY, ts, raw)
    symbol, tf = _binance_identity(meta, file)
    ts = _parse_ts(raw["date"], file, "date", header_line)  # Binance kline open time, UTC
    return _frame(pd.Series(symbol, index=raw.index), tf, ts, raw)


def _csv_head(file: Path) -> tuple[list[str], list[str], int]:
    """Return the # metadata lines, the header's column names, and how many lines precede the header."""
    meta: list[str] = []
    try:
        with file.open(encoding="utf-8-sig") as fh:  # -sig: spreadsheet exports start with a BOM
            for n, line in enumerate(fh):
                text = line.strip()
                if text.startswith("#"):
                    meta.append(text)
                elif text:
                    return meta, [c.strip() for c in text.split(",")], n
    except UnicodeDecodeError:
        raise DataError(f"{file}: not a UTF-8 text CSV; export it as CSV") from None
    raise DataError(f"{file}: file has no header line (only comments or blank lines); expected columns "
                    f"{','.join(BAR_COLUMNS)}")


def _detect(header: list[str], meta: list[str], file: Path) -> str:
    have = set(header)
    for layout, cols in _LAYOUTS.items():
        if set(cols) <= have:
            return layout
    # Name the layout the file comes closest to, so the message says exactly what is missing.
    layout, cols = min(_LAYOUTS.items(), key=lambda kv: len(set(kv[1]) - have))
    missing = [c for c in cols if c not in have]
    problem = f"missing column(s) {', '.join(missing)} for the {layout} layout" \
        if len(missing) <= len(cols) // 2 else "missing columns: not a bar layout this reader knows"
    raise DataError(f"{file}: {problem} (found: {', '.join(header)}); expected {','.join(BAR_COLUMNS)} "
                    f"or {','.join(_SP_COLS)} or a Binance kline export")


def _binance_identity(meta: list[str], file: Path) -> tuple[str, str]:
    text = " ".join(meta)
    sym, tf = _META_SYMBOL.search(text), _META_TIMEFRAME.search(text)
    named = _NAME_PATTERN.search(file.name)
    symbol = sym.group(1) if sym else named.group(1) if named else None
    timeframe = tf.group(1) if tf else named.group(2) if named else None
    if symbol is None or timeframe is None:
        raise DataError(f"{file}: cannot tell the Binance symbol/timeframe; add a line "
                        f"'# Market: SPOT | Symbol: BTCUSDT | Timeframe: 1h' or name the file "
                        f"binance_spot_<SYMBOL>-<tf>_<dates>.csv")
    try:
        return symbol, normalize_timeframe(timeframe)
    except ValueError as exc:
        raise DataError(f"{file}: {exc}") from None


def _from_canonical(raw: pd.DataFrame, file: Path, header_line: int) -> pd.DataFrame:
    missing = [c for c in BAR_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{file}: missing column(s) {', '.join(missing)} (found: "
                        f"{', '.join(map(str, raw.columns))}); expected {','.join(BAR_COLUMNS)}")
    for col in ("symbol", "timeframe"):
        _require_values(raw, col, file, header_line)
    tf = raw["timeframe"].astype(str)
    try:
        spelled = {t: normalize_timeframe(t) for t in tf.unique()}
    except ValueError as exc:
        raise DataError(f"{file}: {exc}") from None
    ts = _parse_ts(raw["ts"], file, "ts", header_line)
    return _frame(raw["symbol"].astype(str), tf.map(spelled), ts, raw)


def _frame(symbol: pd.Series, timeframe: str | pd.Series, ts: pd.Series, raw: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"symbol": symbol.astype("str"), "timeframe": timeframe, "ts": ts})
    out["timeframe"] = out["timeframe"].astype("str")
    for col in _PRICE_COLS:
        # Text in a number column becomes NaN, not an error: the validation gate quarantines that row.
        out[col] = pd.to_numeric(raw[col], errors="coerce").astype("float64")
    return out


def _parse_ts(col: pd.Series, file: Path, name: str, header_line: int) -> pd.Series:
    """Parse times as UTC (naive text is taken as UTC); raise on the first one that does not parse."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        ts = col.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(col.dtype):
        ts = col.dt.tz_localize("UTC")
    else:
        text = col.astype("str").str.strip()
        ts = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        bad = ts.isna()
        if bad.any():
            i = int(bad.to_numpy().argmax())
            where = f"line {header_line + 1 + i}" if header_line else f"row {i + 1}"
            value = col.iloc[i]
            problem = f"no {name} value" if pd.isna(value) or not str(value).strip() else \
                f"unparseable {name} {str(value)!r}"
            raise DataError(f"{file}: {problem} at {where}; times must be ISO like 2024-01-31 "
                            f"or 2024-01-31 14:00:00 (UTC)")
    return ts.dt.as_unit("us")


def _require_values(df: pd.DataFrame, col: str, file: Path, header_line: int) -> None:
    blank = df[col].isna() | (df[col].astype("str").str.strip() == "")
    if blank.any():
        i = int(blank.to_numpy().argmax())
        where = f"line {header_line + 1 + i}" if header_line else f"row {i + 1}"
        raise DataError(f"{file}: empty {col} at {where}; every row needs its {col}")


def _listing(values: pd.Series, limit: int = 30) -> str:
    names = sorted(set(values))
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

