"""Stop requests from signals, remembered so that no library can swallow them.

SIGINT and SIGTERM reach a running job as :class:`KeyboardInterrupt` in the main thread.
Some libraries catch it on the way: DuckDB turns it into an ordinary "Query interrupted"
error, which the engine would then record as a failed table and carry on. So the handlers
installed by :func:`recording` first remember the request here; the engine asks
:func:`stop_requested` after any error and turns it back into the stop it was
(:func:`raise_if_stopping`), and a ``KeyboardInterrupt`` that no signal caused (a
validator raising it) is an ordinary error of that validator (:func:`is_stop`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_requested: str | None = None

#: the messages of the two signals, as the CLI reports them
SIGNAL_MESSAGES = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated (SIGTERM)"}


def request_stop(reason: str) -> None:
    """Remember that this process was asked to stop (by a signal)."""
    global _requested
    _requested = reason


def stop_requested() -> str | None:
    """Why this process was asked to stop, or None."""
    return _requested


def clear() -> None:
    """Forget an earlier request (a notebook runs another job after an interrupted one)."""
    global _requested
    _requested = None


def is_stop(exc: BaseException) -> bool:
    """True when ``exc`` is a stop this process was asked for (a signal), not an error."""
    return isinstance(exc, KeyboardInterrupt) and _requested is not None


def raise_if_stopping() -> None:
    """Raise the :class:`KeyboardInterrupt` of a stop request that something swallowed."""
    if _requested is not None:
        raise KeyboardInterrupt(_requested)


def _wrap(signum: int, previous: Any) -> Any:
    def handler(num: int, frame: Any) -> None:
        request_stop(SIGNAL_MESSAGES.get(signal.Signals(num), signal.Signals(num).name))
        previous(num, frame)

    return handler


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """While a job runs in the main thread: SIGINT and SIGTERM handlers that raise (the
    default Ctrl-C handler, the CLI's SIGTERM handler) first record the request. Handlers
    that do not raise (a worker's graceful stop) and the default actions are left as they
    are. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    clear()
    installed: dict[int, Any] = {}
    for signum in (int(signal.SIGINT), int(signal.SIGTERM)):
        previous = signal.getsignal(signum)
        if callable(previous) and getattr(previous, "raises_interrupt", previous is signal.default_int_handler):
            installed[signum] = previous
            signal.signal(signum, _wrap(signum, previous))
    try:
        yield
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)
