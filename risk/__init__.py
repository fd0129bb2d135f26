"""Pure risk rules: sizing, caps and verdicts with their reasons. No I/O, no clock reads."""

from risk.engine import Proposal, decide

__all__ = ["Proposal", "decide"]
