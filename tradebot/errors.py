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
