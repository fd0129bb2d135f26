"""The login gate: a login form, the signed-in actor in session state, idle timeout, logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard.common import read, sessions, settings
from tradebot.auth import Actor, AuthError, LoginPolicy, Role, authenticate, session_expired
from tradebot.store import views_ops

KEY = "auth"


def policy() -> LoginPolicy:
    """Return the login policy from the dashboard config."""
    d = settings().dashboard
    return LoginPolicy(max_failures=d.max_failed_logins, window=timedelta(minutes=d.lockout_minutes),
                       session_timeout=timedelta(minutes=d.session_timeout_minutes))


def actor() -> Actor | None:
    """Return the signed-in actor, or None."""
    a = st.session_state.get(KEY)
    return Actor(a["name"], Role(a["role"]), "dashboard") if a else None


def still_signed_in(touch: bool = False) -> bool:
    """Return True if the session is live; expire it after the idle timeout; touch marks activity."""
    a = st.session_state.get(KEY)
    if not a:
        return False
    now = datetime.now(UTC)
    if session_expired(a["last_seen"], now, policy()):
        del st.session_state[KEY]
        st.session_state["flash"] = "Your session timed out: please log in again."
        return False
    # A disabled user is signed out within the read cache's 5 s. A role change shows in the UI at the next
    # login, but every command re-reads the stored role, so a demotion takes effect there at once.
    state = read(views_ops.user_state, a["name"])
    if state is None or state[1]:
        del st.session_state[KEY]
        st.session_state["flash"] = "Your account was disabled or removed."
        return False
    if touch:
        a["last_seen"] = now
    return True


def require_actor() -> Actor:
    """Return the signed-in actor or stop the page (pages call this first, whatever navigation shows)."""
    a = actor()
    if a is None:
        st.warning("Please log in.")
        st.stop()
    return a  # type: ignore[return-value]


def login_page() -> None:
    """Render the login form; on success store the actor and rerun into the app."""
    st.title("tradebot")
    if msg := st.session_state.pop("flash", None):
        st.info(msg)
    with st.form("login"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            who = authenticate(sessions(), name, password, policy=policy(), source="dashboard")
        except AuthError as exc:
            st.error(str(exc))
            return
        st.session_state[KEY] = {"name": who.name, "role": who.role.value, "last_seen": datetime.now(UTC)}
        st.rerun()
    st.caption("Accounts are created with `tradebot users add NAME --role viewer|trader|admin`.")


def logout() -> None:
    """Forget the signed-in actor."""
    st.session_state.pop(KEY, None)
    st.session_state["flash"] = "Logged out."
