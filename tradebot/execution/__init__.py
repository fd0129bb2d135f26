"""Exactly-once order submission, order-event application, reconciliation and market-hours gating."""
