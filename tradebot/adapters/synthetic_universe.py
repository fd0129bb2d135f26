"""The built-in market's universe: instruments and how each symbol behaves (price, vol, sector, earnings)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tradebot.domain import AssetClass, EarningsHour, Instrument, Symbol


def _stock(symbol: str, name: str, exchange: str) -> Instrument:
    return Instrument(Symbol(symbol), AssetClass.EQUITY, name, exchange, Decimal("1"), Decimal("1"))


DEFAULT_STOCKS: tuple[Instrument, ...] = (
    _stock("AAPL", "Apple Inc.", "NASDAQ"),
    _stock("MSFT", "Microsoft Corporation", "NASDAQ"),
    _stock("NVDA", "NVIDIA Corporation", "NASDAQ"),
    _stock("AMZN", "Amazon.com, Inc.", "NASDAQ"),
    _stock("JPM", "JPMorgan Chase & Co.", "NYSE"),
    _stock("XOM", "Exxon Mobil Corporation", "NYSE"),
    _stock("KO", "The Coca-Cola Company", "NYSE"),
    _stock("TSLA", "Tesla, Inc.", "NASDAQ"),
)
DEFAULT_CRYPTO: tuple[Instrument, ...] = (
    Instrument(Symbol("BTC/USD"), AssetClass.CRYPTO, "Bitcoin", "CRYPTO",
               min_qty=Decimal("0.0001"), qty_step=Decimal("0.0001")),
    Instrument(Symbol("ETH/USD"), AssetClass.CRYPTO, "Ethereum", "CRYPTO",
               min_qty=Decimal("0.001"), qty_step=Decimal("0.001")),
)


@dataclass(frozen=True, slots=True)
class _Profile:
    """How one symbol behaves; vols and loadings are per-session log-return stdevs."""

    short: str  # name used in headlines
    price: float  # first previous close
    vol: float  # total daily stdev
    beta: float  # loading on the market factor
    sector: str
    sector_vol: float  # stdev contributed by the sector factor
    volume: float  # typical daily volume in units
    eps: float = 0.0  # quarterly EPS level at the start
    hour: EarningsHour = EarningsHour.AFTER_CLOSE


_BMO = EarningsHour.BEFORE_OPEN
_PROFILES: dict[str, _Profile] = {
    "AAPL": _Profile("Apple", 230.0, 0.017, 1.1, "tech", 0.006, 55e6, 1.60),
    "MSFT": _Profile("Microsoft", 420.0, 0.016, 1.0, "tech", 0.006, 22e6, 3.10),
    "NVDA": _Profile("Nvidia", 130.0, 0.030, 1.5, "tech", 0.008, 250e6, 0.80),
    "AMZN": _Profile("Amazon", 190.0, 0.020, 1.2, "consumer", 0.008, 40e6, 1.20),
    "JPM": _Profile("JPMorgan", 230.0, 0.015, 1.05, "financials", 0.007, 9e6, 4.50, _BMO),
    "XOM": _Profile("Exxon Mobil", 115.0, 0.016, 0.8, "energy", 0.010, 15e6, 1.80, _BMO),
    "KO": _Profile("Coca-Cola", 68.0, 0.010, 0.6, "staples", 0.004, 13e6, 0.75, _BMO),
    "TSLA": _Profile("Tesla", 250.0, 0.035, 1.7, "consumer", 0.008, 95e6, 0.60),
    "BTC/USD": _Profile("Bitcoin", 65000.0, 0.032, 0.5, "crypto", 0.029, 15e3),
    "ETH/USD": _Profile("Ether", 3000.0, 0.042, 0.5, "crypto", 0.036, 2e5),
}

_MARKET_VOL = 0.0115  # market factor stdev per session (~18% a year)
_CLOSED_SCALE = 0.45  # stdev scale of a stock's moves on closed days (they reach Monday's gap)
# Hidden regimes calm / bull / bear: market drift per day, vol multiplier, daily transition matrix.
_REGIME_DRIFT = np.array([0.00025, 0.0007, -0.0012])  # ~8% a year on average
_REGIME_VOL = np.array([0.85, 0.95, 1.6])
_REGIME_P = np.array([[0.985, 0.010, 0.005], [0.012, 0.985, 0.003], [0.020, 0.005, 0.975]])
_GARCH_ALPHA, _GARCH_BETA = 0.09, 0.89  # persistence 0.98: calm and stormy stretches
_T_DOF = 6.0  # Student-t shocks: fat tails (finite kurtosis with the GARCH above)
_MAX_VARIANCE = 4.0  # cap on GARCH variance (x long run): a crash, not a runaway explosion
_NEWS_IMPACT = 0.6  # total move of a full-strength item, in daily stdevs
_NEWS_HIT_RATE = 0.7  # share of items that move the price at all (the rest is noise)
_EARNINGS_EVERY = 63  # sessions between reports (a quarter)

_TEMPLATES = {
    1: ("{name} shares surge after earnings beat estimates", "{name} raises full-year guidance",
        "{name} wins major contract as analysts upgrade the stock", "{name} posts strong record revenue",
        "{name} stock jumps on strong demand for new products", "{name} announces bigger buyback",
        "{name} gains after upbeat outlook impresses investors", "{name} rallies as new launch wins praise"),
    -1: ("{name} plunges as regulators open probe", "{name} cuts outlook amid weak demand",
         "{name} shares fall after disappointing results", "{name} faces lawsuit over product defects",
         "{name} downgraded as analysts warn of weak growth", "{name} warns of losses on supply problems",
         "{name} slumps after losing key customer", "{name} drops as executives quit amid turmoil"),
    0: ("{name} to present at industry conference", "{name} schedules quarterly earnings call",
        "{name} names new chief financial officer", "{name} files annual report with regulators",
        "{name} to hold annual shareholder meeting in May", "{name} shares little changed ahead of data"),
}
_CRYPTO_TEMPLATES = {
    1: ("{name} rallies as ETF inflows hit record", "{name} gains as institutional buyers return",
        "{name} jumps as institutional demand grows strongly",
        "{name} surges to best week in months on optimism"),
    -1: ("{name} tumbles after exchange hack sparks fear",
         "{name} slides after regulators crack down on exchanges",
         "{name} falls as investors fear stricter rules", "{name} sinks amid panic selling and liquidations"),
    0: ("{name} network completes scheduled upgrade", "{name} trading volumes flat ahead of data release",
        "{name} developers publish quarterly roadmap"),
}
