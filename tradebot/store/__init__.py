"""Ledger: SQLAlchemy tables, sessions, writes and read views."""
