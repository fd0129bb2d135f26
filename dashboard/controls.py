"""Two-step controls: a button asks, a Confirm button runs the command; the outcome is shown and audited.

Buttons are disabled for roles that may not use them, but the command itself checks the role again
(tradebot.commands): a disabled button is a hint, not the enforcement.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.common import invalidate
from tradebot.auth import Actor, Role
from tradebot.errors import TradebotError

PENDING = "confirm_pending"


def allowed(actor: Actor, role: Role) -> bool:
    """Return True when actor's role is at least role (to enable a button; the command re-checks)."""
    return actor.role.rank >= role.rank


def confirmed_action(key: str, label: str, question: str, action: Callable[[], str], enabled: bool = True) -> None:
    """Render label; once clicked ask question with Confirm/Cancel; Confirm runs action and shows its result."""
    help_text = None if enabled else "your role does not allow this"
    if st.button(label, key=f"{key}-ask", disabled=not enabled, help=help_text):
        st.session_state[PENDING] = key
    if st.session_state.get(PENDING) != key:
        if (done := st.session_state.get(f"{key}-result")) is not None:
            (st.success if done[0] else st.error)(done[1])
        return
    st.warning(question)
    yes, no = st.columns(2)
    if yes.button("Confirm", key=f"{key}-yes", type="primary"):
        st.session_state.pop(PENDING, None)
        try:
            result = (True, action())
        except (TradebotError, ValueError) as exc:  # PermissionDenied, CommandError, AuthError, bad input
            result = (False, str(exc))
        st.session_state[f"{key}-result"] = result
        invalidate()
        (st.success if result[0] else st.error)(result[1])
    elif no.button("Cancel", key=f"{key}-no"):
        st.session_state.pop(PENDING, None)
        st.info("Cancelled: nothing was changed.")
