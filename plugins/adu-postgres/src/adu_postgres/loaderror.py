"""Errors of the PostgreSQL loader: one line, no secret, retryable or not."""

from __future__ import annotations

from adu_core.errors import AduError

from adu_postgres.connection import clean_message, is_retryable


class LoadError(AduError):
    """Loading a table failed; the target is as it was.

    :param sqlstate: the SQL state the server reported, when there is one.
    :param retryable: True when running the table's load again may succeed (a dropped
        connection, a server restart, a deadlock).
    """

    def __init__(self, message: str, *, sqlstate: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.retryable = retryable


_PRIVILEGE_HINTS = {
    "creating": "the CREATE privilege on the schema (or on the database, to create a schema)",
    "publishing": "to own the target table (or be a member of its owner)",
    "copying": "the INSERT privilege on the staging table",
}


def load_error(exc: BaseException, *, context: str, user: str | None = None, stage: str = "") -> LoadError:
    """A :class:`LoadError` for a driver (or COPY) failure while doing ``context``."""
    code = getattr(exc, "pgcode", None)
    msg = clean_message(exc)
    if code == "42501":
        who = f"role {user!r}" if user else "the connecting role"
        need = _PRIVILEGE_HINTS.get(stage, "the privileges to create and fill tables")
        diag = getattr(exc, "diag", None)
        primary = " ".join(str(getattr(diag, "message_primary", None) or "").split())
        return LoadError(f"{context}: permission denied — {who} needs {need} ({primary or msg})", sqlstate=code)
    return LoadError(f"{context}: {msg}", sqlstate=code, retryable=is_retryable(exc))
