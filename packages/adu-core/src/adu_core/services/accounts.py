"""Web accounts: the one place for their rules, whoever asks (``adu users``, the admin
pages, sign-in).

The last-admin rule: the last *active* admin can never be removed, demoted or
deactivated. It is checked inside the store's write transaction that makes the change
(:mod:`adu_core.store.accounts`), so two concurrent requests cannot both pass it.
An account cannot remove or deactivate itself from the web either.
"""

from __future__ import annotations

import logging

from adu_core.errors import UsageError
from adu_core.services.context import Actor, Context
from adu_core.store.accounts import LOCK_SECONDS, MAX_FAILED_LOGINS, MIN_PASSWORD, ROLES, LastAdminError, UserRow

log = logging.getLogger("adu.services")

__all__ = [
    "LOCK_SECONDS",
    "MAX_FAILED_LOGINS",
    "MIN_PASSWORD",
    "ROLES",
    "LastAdminError",
    "UserRow",
    "add_user",
    "authenticate",
    "end_sessions",
    "get_user",
    "has_users",
    "list_users",
    "remove_user",
    "session_stamp",
    "set_active",
    "set_password",
    "set_role",
    "user_by_id",
]


def _changed(what: str, username: str, actor: Actor, **extra: str) -> None:
    log.info("%s: %s by %s", what, username, actor, extra={"user": actor.name, "account": username, **extra})


def _not_yourself(username: str, actor: Actor, what: str) -> None:
    if actor.remote and actor.name == username:
        raise UsageError(f"you cannot {what} your own account")


def list_users(ctx: Context) -> list[UserRow]:
    """Every account, by name (never a password hash)."""
    return ctx.store.accounts.list()


def has_users(ctx: Context) -> bool:
    return bool(ctx.store.accounts.list())


def get_user(ctx: Context, username: str) -> UserRow:
    """:raises NotFound: no such account."""
    return ctx.store.accounts.get(username)


def user_by_id(ctx: Context, user_id: int) -> UserRow | None:
    return ctx.store.accounts.get_by_id(user_id)


def add_user(ctx: Context, username: str, password: str, role: str, *, actor: Actor) -> UserRow:
    """A new account. :raises UsageError: bad name, short password, unknown role, taken name."""
    user = ctx.store.accounts.add(username, password, role)
    _changed("user added", user.username, actor, role=role)
    return user


def remove_user(ctx: Context, username: str, *, actor: Actor) -> None:
    """Delete the account. :raises LastAdminError: it is the last active admin."""
    _not_yourself(username, actor, "remove")
    ctx.store.accounts.remove(username)
    _changed("user removed", username, actor)


def set_role(ctx: Context, username: str, role: str, *, actor: Actor) -> UserRow:
    """:raises LastAdminError: demoting the last active admin."""
    user = ctx.store.accounts.set_role(username, role)
    _changed("role changed", username, actor, role=role)
    return user


def set_active(ctx: Context, username: str, active: bool, *, actor: Actor) -> UserRow:
    """Let an account sign in again, or stop it (its sessions end at once).

    :raises LastAdminError: deactivating the last active admin.
    """
    if not active:
        _not_yourself(username, actor, "deactivate")
    user = ctx.store.accounts.set_active(username, active)
    _changed("user activated" if active else "user deactivated", username, actor)
    return user


def set_password(ctx: Context, username: str, password: str, *, actor: Actor) -> None:
    """A new password (ends the account's other web sessions and lifts a lockout)."""
    ctx.store.accounts.set_password(username, password)
    _changed("password set", username, actor)


def authenticate(ctx: Context, username: str, password: str, *, address: str = "?") -> UserRow | None:
    """The account when the password is right, it is active, and it may sign in from
    ``address`` now (see :meth:`adu_core.store.accounts.Accounts.authenticate`: atomic
    counting, per-address back-off, a lockout that a known address passes)."""
    return ctx.store.accounts.authenticate(username, password, address)


def end_sessions(ctx: Context, user_id: int) -> None:
    """End every web session of the account (sign-out: a captured cookie stops working)."""
    ctx.store.accounts.end_sessions(user_id)


def session_stamp(ctx: Context, user_id: int, key: bytes) -> str:
    """A keyed fingerprint of the account's password, carried by its web sessions."""
    return ctx.store.accounts.password_stamp(user_id, key)
