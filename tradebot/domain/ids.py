"""Typed identifiers and the deterministic client order id."""

import hashlib
from typing import NewType

Symbol = NewType("Symbol", str)
ClientOrderId = NewType("ClientOrderId", str)
RunId = NewType("RunId", str)
CycleId = NewType("CycleId", str)


def make_client_order_id(strategy: str, symbol: str, cycle: str, leg: str = "entry") -> ClientOrderId:
    """Derive the client order id from what the order is, so a retry reproduces it exactly."""
    # Brokers cap client ids (Alpaca 128, Binance 36 chars): a short hash keeps us under both.
    digest = hashlib.sha256(f"{strategy}|{symbol}|{cycle}|{leg}".encode()).hexdigest()[:24]
    return ClientOrderId(f"tb-{digest}")


def make_news_id(source: str, url: str, title: str) -> str:
    """Derive a stable id for a news item from its source, URL and title."""
    return hashlib.sha256(f"{source}|{url}|{title}".encode()).hexdigest()[:32]
