"""What every command shares: the settings, the services context, who acts, and the one
error convention.

Commands stay thin: they parse options, call :mod:`adu_core.services`, and print. Every
error ends a command the same way (:func:`handle_errors`): one line ``adu: error: ...`` on
standard error, never a traceback or a secret, and the documented exit code (2 bad usage
or input, 1 a failed job, 130/143 interrupted).
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
from adu_core.errors import AduError, JobFailed, UsageError
from adu_core.logs import setup_service_logging
from adu_core.secrets import redact_text
from adu_core.services.context import Actor, Context

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: exit codes of a command stopped by Ctrl-C (SIGINT) or SIGTERM, as shells report them
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
_TERMINATED = "terminated (SIGTERM)"


class Env:
    """Lazily built shared objects of one CLI invocation."""

    def __init__(self) -> None:
        self._settings: config_mod.Settings | None = None
        self._ctx: Context | None = None
        #: who acts: the user running ``adu``, recorded in the audit events of jobs
        self.actor = Actor.local("cli")

    @property
    def settings(self) -> config_mod.Settings:
        if self._settings is None:
            self._settings = config_mod.load()
            setup_service_logging(self._settings.log_dir, self._settings.log_level, stdout=self._settings.log_stdout)
        return self._settings

    @property
    def ctx(self) -> Context:
        """The services' context (the store is opened on first use). A fresh ``adu``
        process has started no thread pools, so a job's process pool may fork."""
        if self._ctx is None:
            self._ctx = Context(self.settings, fork_safe=True)
        return self._ctx


pass_env = click.make_pass_decorator(Env, ensure=True)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one redacted line on stderr and exit with ``code``."""
    click.echo(f"adu: error: {redact_text(message)}", err=True)
    sys.exit(code)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(_TERMINATED)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (``kill``, ``timeout``, a service manager) stops a command the way Ctrl-C
    does: a running job cancels its partitions (the server-side COPY too), removes what it
    staged and is recorded ``cancelled``, instead of the process dying mid-write. Commands
    with their own handler (``adu worker``) replace this one while they run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def handle_errors(fn: F) -> F:
    """Turn ADU's errors into one clear line and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_interrupts():
                return fn(*args, **kwargs)
        except UsageError as exc:
            fail(str(exc), EXIT_USAGE)
        except click.ClickException as exc:  # raised by a command's own checks
            fail(exc.format_message(), exc.exit_code)
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
