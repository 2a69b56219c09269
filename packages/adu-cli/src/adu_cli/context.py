"""What every command shares: settings, the store, the plugin manager, error handling.

Commands stay thin: they parse options, call :mod:`adu_core`, and print.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click
from adu_core import config as config_mod
from adu_core import signals
from adu_core.errors import AduError, JobFailed, StoreUnavailable, UsageError
from adu_core.logs import setup_service_logging
from adu_core.secrets import redact_text

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: exit codes of a command stopped by Ctrl-C (SIGINT) or SIGTERM, as shells report them
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
_TERMINATED = "terminated (SIGTERM)"


class Env:
    """Lazily built shared objects of one CLI invocation."""

    def __init__(self) -> None:
        self._settings: config_mod.Settings | None = None
        self._store: Any = None

    @property
    def settings(self) -> config_mod.Settings:
        if self._settings is None:
            self._settings = config_mod.load()
            setup_service_logging(self._settings.log_dir, self._settings.log_level, stdout=self._settings.log_stdout)
        return self._settings

    @property
    def store(self) -> Any:
        """The job store, opened (and migrated) on first use; jobs whose process died
        (expired leases) are reaped then, as every ADU process does."""
        if self._store is None:
            from adu_core.reaper import reap
            from adu_core.store import Store

            self._store = Store.from_settings(self.settings)
            reap(self._store, self.settings)
        return self._store


pass_env = click.make_pass_decorator(Env, ensure=True)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one redacted line on stderr and exit with ``code``."""
    click.echo(f"adu: error: {redact_text(message)}", err=True)
    sys.exit(code)


def _raise_terminated(signum: int, frame: Any) -> None:
    signals.request_stop(_TERMINATED)
    raise KeyboardInterrupt(_TERMINATED)


def _raise_interrupted(signum: int, frame: Any) -> None:
    signals.request_stop("interrupted")
    raise KeyboardInterrupt("interrupted")


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (``kill``, ``timeout``, a service manager) stops a command the way Ctrl-C
    does: a running job cancels its partitions (the server-side COPY too), removes what it
    staged and is recorded ``cancelled``, instead of the process dying mid-write. Both
    signals are remembered (:mod:`adu_core.signals`) so that no library can turn them into
    an ordinary error. Commands with their own handler (``adu worker``) replace these
    while they run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    previous_int = signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def handle_errors(fn: F) -> F:
    """Turn ADU's errors into one clear line and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_interrupts():
                return fn(*args, **kwargs)
        except (UsageError, StoreUnavailable) as exc:
            fail(str(exc), EXIT_USAGE)
        except JobFailed as exc:
            fail(str(exc), EXIT_FAILED)
        except AduError as exc:
            fail(str(exc), EXIT_FAILED)
        except KeyboardInterrupt as exc:
            if str(exc) == _TERMINATED:
                fail(_TERMINATED, EXIT_TERMINATED)
            fail("interrupted", EXIT_INTERRUPTED)
        except OSError as exc:
            fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), EXIT_USAGE)
        except Exception as exc:
            logging.getLogger("adu.cli").exception("unexpected error")
            fail(
                f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                "(details in the service log)",
                EXIT_FAILED,
            )

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_duration(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(s), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"
