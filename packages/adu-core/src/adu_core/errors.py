"""Exceptions with a meaning for the frontends.

The CLI maps :class:`UsageError` (and its subclasses) to exit code 2 and prints its
message on one line; :class:`JobFailed` maps to exit code 1.
"""

from __future__ import annotations


class AduError(Exception):
    """Base of every error ADU raises on purpose."""


class UsageError(AduError):
    """Bad usage or bad input: unknown scheme, missing table, unwritable directory...

    The message is one line, safe to show (it never holds a secret).
    """


class SourceError(AduError):
    """A source could not do what was asked (connection, privilege, query).

    :param sqlstate: the SQL state the server reported, when there is one.
    :param retryable: True when a retry of the same partition may succeed
        (dropped connection, server restart).
    """

    def __init__(self, message: str, *, sqlstate: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.retryable = retryable


class ColumnFallback(SourceError):
    """Values of these columns have no type in the sink (``NaN`` in a decimal column, a
    year past 294246): the engine asks the source for the table read with them as exact
    text (:meth:`adu_core.plugin.components.Source.fallback`) and reads the table again.

    :param columns: the names of the columns (as the source spells them).
    """

    def __init__(self, message: str, *, columns: tuple[str, ...]) -> None:
        super().__init__(message)
        self.columns = tuple(columns)

    def __reduce__(self) -> tuple[object, ...]:  # keeps ``columns`` across processes
        return (_column_fallback, (str(self), self.columns))


def _column_fallback(message: str, columns: tuple[str, ...]) -> ColumnFallback:
    return ColumnFallback(message, columns=columns)


class ConnectError(SourceError, UsageError):
    """The source cannot be reached or refuses the credentials (exit code 2)."""


class SnapshotLost(SourceError):
    """The source no longer has the snapshot the job reads from (the server restarted,
    or the session that exported it ended): the job cannot go on at the same point in
    time; a retry exports the remaining tables from a new snapshot."""


class StoreUnavailable(AduError):
    """The job store cannot be reached (wrong ``ADU_STORE_URL``, the server is down or
    refuses connections); raised after the store's retries ran out."""


class JobLost(AduError):
    """The running job is no longer this process's: its lease expired and another
    process requeued it, marked it stale or cancelled it."""


class Cancelled(AduError):
    """The job was cancelled; raised between batches."""


class JobFailed(AduError):
    """A job ended failed or partial (exit code 1)."""


class NotFound(UsageError):
    """An unknown job id, user or file."""


class Conflict(UsageError):
    """The request does not fit the current state (cancel a finished job, retry a running
    one, remove the last admin): the web answers 409, the CLI exits 2."""


class Busy(UsageError):
    """Too many of the same request at once (a web user's concurrent discoveries): try
    again when one has ended (HTTP 429)."""
