"""Adapters: one module per outside system, each behind a small Protocol in ports.py."""
