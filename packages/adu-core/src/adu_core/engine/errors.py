"""Errors as the engine records them: one line for people, the redacted traceback kept."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from adu_core.models import ErrorInfo
from adu_core.secrets import redact_text

log = logging.getLogger("adu.engine")


def error_info(exc: BaseException, **context: Any) -> ErrorInfo:
    """An :class:`ErrorInfo` for ``exc``: one-line message, redacted traceback, context."""
    message = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    tb = redact_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return ErrorInfo(
        message=message,
        kind=type(exc).__name__,
        traceback=tb,
        context={k: v for k, v in context.items() if v is not None},
        sqlstate=getattr(exc, "sqlstate", None),
    )


def quiet(fn: Callable[..., Any], *args: Any) -> None:
    """Call ``fn(*args)`` as a cleanup step: a failure is logged at debug level, never raised."""
    try:
        fn(*args)
    except Exception:
        log.debug("cleanup step failed", exc_info=True)
