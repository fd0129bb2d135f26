"""Users (admin): list, add, change role, disable. The commands check the admin role themselves."""

import streamlit as st

from dashboard import common, gate
from dashboard.controls import allowed, confirmed_action
from tradebot import commands
from tradebot.auth import Role
from tradebot.store import views_ops

actor = gate.require_actor()
sessions = common.sessions()
admin = allowed(actor, Role.ADMIN)

st.title("Users")
st.dataframe(common.read(views_ops.users), hide_index=True, width="stretch", key="users-table")
roles = [r.value for r in Role]

st.header("Add a user")
name = st.text_input("name", key="user-name")
role = st.selectbox("role", roles, key="user-role")
pw1 = st.text_input("password", type="password", key="user-pw1")
pw2 = st.text_input("password (again)", type="password", key="user-pw2")


def _add() -> str:
    if pw1 != pw2:
        raise ValueError("the two passwords differ: nothing was stored")
    commands.add_user(sessions, actor, name, pw1, role)
    return f"user {name} added as {role}"


confirmed_action("user-add", "Add user", f"Create user {name!r} with role {role}?", _add, admin)

st.header("Change a user")
names = list(common.read(views_ops.users)["name"])
if names:
    who = st.selectbox("user", names, key="user-who")
    new_role = st.selectbox("new role", roles, key="user-new-role")

    def _set_role() -> str:
        commands.set_user_role(sessions, actor, who, new_role)
        return f"{who} is now {new_role}"

    def _disable() -> str:
        commands.set_user_disabled(sessions, actor, who)
        return f"{who} disabled"

    confirmed_action("user-role", "Set role", f"Make {who} a {new_role}?", _set_role, admin)
    confirmed_action("user-disable", "Disable user", f"Disable {who}? Their sessions lose every control at once.",
                     _disable, admin)
