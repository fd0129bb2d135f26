"""Finnhub's earnings calendar over requests: /calendar/earnings -> EarningsEvent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

import requests

from tradebot.adapters.http import FINNHUB_RATE, Politeness
from tradebot.domain import EarningsEvent, EarningsHour, Symbol
from tradebot.errors import DataError

_HOURS = {"bmo": EarningsHour.BEFORE_OPEN, "amc": EarningsHour.AFTER_CLOSE, "dmh": EarningsHour.DURING}


def _num(value: object) -> float | None:
    return None if value is None or value == "" else float(value)  # type: ignore[arg-type]


def _int(value: object) -> int | None:
    return None if value is None or value == "" else int(value)  # type: ignore[call-overload]


class FinnhubEarnings:
    """Earnings calendar from Finnhub: one range query (one request per call), filtered to our symbols."""

    name = "finnhub"

    def __init__(self, base_url: str, token: str, clock: Callable[[], datetime], *,
                 politeness: Politeness | None = None) -> None:
        self._base_url = base_url.rstrip("/")  # e.g. https://finnhub.io/api/v1
        self.clock = clock
        self.politeness = politeness or Politeness(FINNHUB_RATE)
        # Finnhub also accepts ?token=, but urllib3's DEBUG log prints query strings: the header keeps
        # the key out of every log. secret_params still scrubs a token that arrives in a URL.
        self._session = self.politeness.session(secret_params=("token",))
        self._session.headers["X-Finnhub-Token"] = token
        self._token = token

    def request_earnings(self, symbols: Sequence[str], start: date, end: date) -> list[EarningsEvent]:
        """Return events for symbols dated start..end inclusive, as Finnhub knows them now."""
        endpoint = "/calendar/earnings"
        params = {"from": start.isoformat(), "to": end.isoformat()}
        if len(set(symbols)) == 1:
            params["symbol"] = symbols[0]  # a narrower answer when only one symbol is wanted
        response = self._session.get(f"{self._base_url}{endpoint}", params=params)
        if response.status_code != 200:
            raise DataError(f"finnhub: GET {endpoint} failed with status {response.status_code}: "
                            f"{_error_text(response).replace(self._token, '***')}")
        try:
            body = response.json()
        except requests.JSONDecodeError:
            raise DataError(f"finnhub: GET {endpoint} returned malformed JSON") from None
        wanted = set(symbols)
        try:
            rows = body.get("earningsCalendar") or []
            return [EarningsEvent(Symbol(r["symbol"]), date.fromisoformat(r["date"]),
                                  _HOURS.get(str(r.get("hour") or "").lower(), EarningsHour.UNKNOWN),
                                  _num(r.get("epsEstimate")), _num(r.get("epsActual")),
                                  _num(r.get("revenueEstimate")), _num(r.get("revenueActual")),
                                  _int(r.get("quarter")), _int(r.get("year")))
                    for r in rows if r.get("symbol") in wanted]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"finnhub: GET {endpoint} returned an event in an unexpected shape ({exc!r})") from None


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))[:200]
    except (ValueError, AttributeError):
        return response.text[:200].replace("\n", " ")
