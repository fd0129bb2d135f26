"""Errors a user can act on: each message names the problem and what to do."""


class TradebotError(Exception):
    """Base for errors shown to the user as one line (no traceback unless --debug)."""


class ConfigError(TradebotError):
    """The configuration file or environment holds a bad or missing value."""


class DataError(TradebotError):
    """An input data file or feed is missing, empty or malformed."""


class LedgerError(TradebotError):
    """The ledger database is unreachable or not at the expected schema."""


class BrokerError(TradebotError):
    """A broker refused or failed an operation."""


class BrokerUnavailable(BrokerError):
    """The outcome of a broker call is unknown (timeout, 5xx, dropped connection): look it up before retrying."""


class DuplicateClientOrderId(BrokerError):
    """The broker already holds an order under this client order id (confirm it by lookup)."""


class MarketClosed(BrokerError):
    """The market for this instrument is closed and extended hours are not allowed."""
