"""Adapters: the built-in synthetic market, file readers, feeds and brokers."""
