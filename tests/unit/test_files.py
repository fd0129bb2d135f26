"""Bar and earnings files: three price layouts in, one contract out; structural problems name the file."""

import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradebot.adapters.files import normalize_timeframe, read_bars, read_earnings_csv, write_bars
from tradebot.domain import BAR_COLUMNS, EarningsHour
from tradebot.errors import DataError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PRICES = FIXTURES / "prices"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PRICE_COLS = ["open", "high", "low", "close", "volume"]


def _assert_contract(df: pd.DataFrame) -> None:
    assert tuple(df.columns) == BAR_COLUMNS
    assert isinstance(df.index, pd.RangeIndex)
    assert str(df["ts"].dt.tz) == "UTC"
    assert (df[PRICE_COLS].dtypes == "float64").all()
    assert df.equals(df.sort_values(["symbol", "ts"]).reset_index(drop=True))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not present at {path} (it lives beside the project, not in it)")
    return path


# -- the three layouts --------------------------------------------------------------------------


def test_a_daily_sp500_csv_reads_as_daily_bars_at_midnight_utc() -> None:
    df = read_bars(PRICES / "sp500_daily" / "AAPL_data.csv")
    _assert_contract(df)
    assert set(df["symbol"]) == {"AAPL"} and set(df["timeframe"]) == {"1Day"}
    assert df["ts"].iloc[0] == pd.Timestamp("2017-12-20", tz="UTC")
    assert df["close"].iloc[-1] == pytest.approx(170.60)
    assert df["volume"].iloc[0] == 23475649.0


def test_a_binance_kline_csv_takes_symbol_and_timeframe_from_its_metadata() -> None:
    df = read_bars(PRICES / "binance" / "binance_spot_BTCUSDT-1h_20240102.csv")
    _assert_contract(df)
    assert set(df["symbol"]) == {"BTCUSDT"} and set(df["timeframe"]) == {"1Hour"}
    assert list(df["ts"].dt.hour) == [0, 1, 2, 3]
    assert df["open"].iloc[0] == pytest.approx(44179.55)


def test_a_binance_kline_csv_without_metadata_is_named_by_its_file_name() -> None:
    df = read_bars(PRICES / "binance" / "binance_spot_SOLUSDT-5m_20230321.csv")
    assert set(df["symbol"]) == {"SOLUSDT"} and set(df["timeframe"]) == {"5Min"}
    assert df["ts"].iloc[1] == pd.Timestamp("2023-03-21 00:05", tz="UTC")


def test_a_canonical_csv_reads_back_as_written() -> None:
    df = read_bars(PRICES / "canonical" / "bars.csv")
    _assert_contract(df)
    assert list(df["symbol"]) == ["ETH/USD", "ETH/USD", "MSFT", "MSFT"]
    assert df["ts"].iloc[0] == pd.Timestamp("2025-03-03", tz="UTC")
    assert df["volume"].iloc[0] == pytest.approx(41234.125)


@pytest.mark.parametrize(("given", "canonical"), [
    ("1m", "1Min"), ("5m", "5Min"), ("15m", "15Min"), ("1h", "1Hour"), ("4h", "4Hour"), ("1d", "1Day"),
    ("1w", "1Week"), ("1M", "1Month"), ("1Day", "1Day"), ("5Min", "5Min"), ("1Hour", "1Hour"),
])
def test_timeframes_are_normalized_to_one_spelling(given: str, canonical: str) -> None:
    assert normalize_timeframe(given) == canonical


def test_an_unknown_timeframe_spelling_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timeframe"):
        normalize_timeframe("fortnightly")


# -- folders and filters ------------------------------------------------------------------------


def test_a_folder_of_mixed_layouts_reads_into_one_frame() -> None:
    df = read_bars(PRICES)
    _assert_contract(df)
    assert set(df["symbol"]) == {"AAPL", "KO", "BTCUSDT", "SOLUSDT", "MSFT", "ETH/USD"}
    assert len(df) == 5 + 5 + 4 + 3 + 4


def test_symbols_and_timeframe_filter_the_frame() -> None:
    df = read_bars(PRICES, symbols=["KO", "MSFT"], timeframe="1d")
    assert set(df["symbol"]) == {"KO", "MSFT"} and len(df) == 7
    assert set(read_bars(PRICES, timeframe="1h")["symbol"]) == {"BTCUSDT"}


def test_an_unknown_symbol_is_named_with_what_is_available() -> None:
    with pytest.raises(DataError, match=r"unknown symbol\(s\) XYZ in .*prices; available: AAPL, BTCUSDT"):
        read_bars(PRICES, symbols=["AAPL", "XYZ"])


def test_a_timeframe_not_in_the_files_lists_the_ones_that_are() -> None:
    with pytest.raises(DataError, match="no 1Week bars; available timeframes: 1Day, 1Hour, 5Min"):
        read_bars(PRICES, timeframe="1w")


# -- structural problems raise one actionable line ----------------------------------------------


def _one_line_error_naming(path: Path, match: str) -> DataError:
    with pytest.raises(DataError, match=match) as info:
        read_bars(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return info.value


def test_a_missing_path_says_so(tmp_path: Path) -> None:
    _one_line_error_naming(tmp_path / "nope.csv", "no such file or folder")


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    _one_line_error_naming(_write(tmp_path, "empty.csv", ""), "file is empty")


def test_a_header_without_rows_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "h.csv", ",".join(BAR_COLUMNS) + "\n")
    _one_line_error_naming(path, "no rows under the header")


def test_missing_columns_are_named_along_with_the_ones_found(tmp_path: Path) -> None:
    path = _write(tmp_path, "short.csv", "date,open,high,low,close,Name\n2017-12-20,1,2,0.5,1.5,AAPL\n")
    err = _one_line_error_naming(path, "missing column")
    assert "volume" in str(err) and "daily S&P" in str(err)
    assert "found: date, open, high, low, close, Name" in str(err)


def test_an_unrecognised_layout_lists_the_accepted_ones(tmp_path: Path) -> None:
    err = _one_line_error_naming(_write(tmp_path, "x.csv", "a,b\n1,2\n"), "missing column")
    assert "symbol,timeframe,ts" in str(err)


def test_an_unparseable_date_names_the_value_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "AAPL_data.csv", "date,open,high,low,close,volume,Name\n"
                  "2017-12-20,1,2,0.5,1.5,100,AAPL\n20/12/2017x,1,2,0.5,1.5,100,AAPL\n")
    _one_line_error_naming(path, r"unparseable date '20/12/2017x' at line 3")


def test_a_blank_time_is_a_structural_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "bars.csv", ",".join(BAR_COLUMNS) + "\nKO,1Day,,1,2,0.5,1.5,100\n")
    _one_line_error_naming(path, "no ts value at line 2")


def test_a_binance_file_without_metadata_or_telling_name_asks_for_one(tmp_path: Path) -> None:
    text = (PRICES / "binance" / "binance_spot_SOLUSDT-5m_20230321.csv").read_text()
    _one_line_error_naming(_write(tmp_path, "klines.csv", text), "cannot tell the Binance symbol/timeframe")


def test_a_folder_without_bar_files_says_so(tmp_path: Path) -> None:
    _write(tmp_path, "LICENSE.txt", "MIT")
    _one_line_error_naming(tmp_path, "no .csv or .parquet files")


def test_bad_numbers_are_kept_for_the_validation_gate(tmp_path: Path) -> None:
    path = _write(tmp_path, "bars.csv", ",".join(BAR_COLUMNS) + "\n"
                  "KO,1Day,2025-01-02,60,61,59,60.5,100\n"
                  "KO,1Day,2025-01-03,,61,59,-1,100\n"  # missing open, negative close
                  "KO,1Day,2025-01-06,60,58,62,60,abc\n"  # high < low, text volume
                  "KO,1Day,2025-01-06,60,58,62,60,abc\n")  # duplicate
    df = read_bars(path)
    assert len(df) == 4
    assert np.isnan(df["open"].iloc[1]) and df["close"].iloc[1] == -1
    assert df["high"].iloc[2] < df["low"].iloc[2] and np.isnan(df["volume"].iloc[2])


# -- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_write_bars_round_trips(tmp_path: Path, suffix: str) -> None:
    original = read_bars(PRICES)
    write_bars(original, tmp_path / "out" / f"bars{suffix}")
    back = read_bars(tmp_path / "out" / f"bars{suffix}")
    pd.testing.assert_frame_equal(back, original)


def test_a_parquet_file_with_naive_times_is_read_as_utc(tmp_path: Path) -> None:
    frame = read_bars(PRICES / "canonical" / "bars.csv")
    frame["ts"] = frame["ts"].dt.tz_localize(None)
    frame.to_parquet(tmp_path / "naive.parquet", index=False)
    back = read_bars(tmp_path / "naive.parquet")
    assert back["ts"].iloc[0] == pd.Timestamp("2025-03-03", tz="UTC")


def test_times_with_an_offset_are_converted_to_utc(tmp_path: Path) -> None:
    row = "KO,1Hour,2025-01-02T09:30:00-05:00,1,2,0.5,1.5,10"
    path = _write(tmp_path, "bars.csv", ",".join(BAR_COLUMNS) + "\n" + row + "\n")
    assert read_bars(path)["ts"].iloc[0] == pd.Timestamp("2025-01-02 14:30", tz="UTC")


def test_write_bars_refuses_a_frame_without_the_contract_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing column"):
        write_bars(pd.DataFrame({"symbol": ["A"]}), tmp_path / "x.parquet")


def test_write_bars_refuses_an_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"\.csv or \.parquet"):
        write_bars(read_bars(PRICES), tmp_path / "x.xlsx")


# -- earnings -----------------------------------------------------------------------------------


def test_an_earnings_csv_parses_dates_hours_quarters_and_blank_numbers() -> None:
    events = read_earnings_csv(FIXTURES / "earnings" / "earnings_sample.csv")
    assert [e.symbol for e in events] == ["AAPL", "AAPL", "JPM", "KO", "XOM", "ZYNE"]
    aapl = events[0]
    assert aapl.date == date(2018, 2, 1) and aapl.hour is EarningsHour.AFTER_CLOSE
    assert (aapl.eps_estimate, aapl.eps_actual, aapl.quarter, aapl.year) == (3.86, 3.89, 4, 2017)
    assert events[2].hour is EarningsHour.BEFORE_OPEN
    xom, zyne = events[4], events[5]
    assert xom.eps_actual is None and xom.quarter == 2 and xom.year is None
    assert zyne.eps_estimate is None and zyne.eps_actual == -0.41 and zyne.quarter is None
    assert zyne.hour is EarningsHour.UNKNOWN


def test_earnings_can_be_filtered_to_symbols() -> None:
    events = read_earnings_csv(FIXTURES / "earnings" / "earnings_sample.csv", symbols=["AAPL"])
    assert len(events) == 2


def test_an_earnings_csv_with_missing_columns_or_bad_dates_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing earnings column.*eps_est"):
        read_earnings_csv(_write(tmp_path, "e1.csv", "symbol,date,eps\nA,1/2/18,1\n"))
    with pytest.raises(DataError, match="unparseable date '2018-01-02'"):
        read_earnings_csv(_write(tmp_path, "e2.csv", "symbol,date,qtr,eps_est,eps,release_time,surp\n"
                                 "A,2018-01-02,17-Dec,1,1,pre,0\n"))
    with pytest.raises(DataError, match="file is empty"):
        read_earnings_csv(_write(tmp_path, "e3.csv", ""))


# -- the real files beside the project ----------------------------------------------------------


def test_the_real_sp500_folder_reads_quickly_and_completely() -> None:
    folder = _shared("prices", "daily_sp500_2013_2018")
    t0 = time.perf_counter()
    df = read_bars(folder)
    elapsed = time.perf_counter() - t0
    _assert_contract(df)
    assert df["symbol"].nunique() == 40 and len(df) > 50_000
    assert df["ts"].min() == pd.Timestamp("2013-02-08", tz="UTC")
    assert elapsed < 2.0


def test_the_real_binance_files_read_with_their_timeframes() -> None:
    df = read_bars(_shared("prices", "binance_spot"), symbols=["SOLUSDT"], timeframe="1m")
    assert set(df["timeframe"]) == {"1Min"} and len(df) > 10_000
    assert df["ts"].diff().dropna().min() >= pd.Timedelta(minutes=1)
    hourly = read_bars(_shared("prices", "binance_spot"), timeframe="1h")
    assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= set(hourly["symbol"])


def test_the_real_earnings_file_reads_with_hours_and_numbers() -> None:
    events = read_earnings_csv(_shared("earnings", "earnings_latest.csv"), symbols=["AAPL", "MSFT"])
    assert len(events) > 40
    assert {e.hour for e in events} <= {EarningsHour.BEFORE_OPEN, EarningsHour.AFTER_CLOSE}
    assert all(e.eps_estimate is not None and e.eps_actual is not None for e in events)
    assert min(e.date for e in events) < date(2014, 1, 1)
