"""Logging: JSON lines, one file per job plus the service log, redaction on every handler.

Use :func:`setup_service_logging` once per process and :func:`job_logging` around a job
(or in a worker process, for the job it works for). Records carry ``job_id`` and
``table`` attributes (``extra=``) which the JSON formatter writes out; the log viewer
filters on them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adu_core.secrets import job_scope, redact_text, use_scope

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, the arguments, the extras and the traceback.

    It renders the record's message and exception text once, redacts them, and leaves a
    record with no arguments and no exception object, so no later formatter can bring a
    secret back.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # the secrets of the scope that logs (a job, a request) and of the job the
        # record belongs to: never another job's or another request's
        scope = job_scope(getattr(record, "job_id", None))
        extra = scope.values() if scope is not None else frozenset()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact_text(message, extra)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text("".join(traceback.format_exception(*record.exc_info)), extra)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text, extra)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, extra)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact_text(value, extra))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, job_id, table, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 6),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_text:
            entry["exc"] = record.exc_text
        elif record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = redact_text("".join(traceback.format_exception(*record.exc_info)))
        # values are masked, never the keys or the JSON around them (a one-letter password
        # must not break the line), nor the fields ADU writes itself
        for key, value in entry.items():
            if isinstance(value, str) and key not in ("time", "level", "job_id"):
                entry[key] = redact_text(value)
        return json.dumps(entry, ensure_ascii=False, default=str)


class JobFilter(logging.Filter):
    """Lets through only the records of one job."""

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "job_id", None) == self.job_id


_bound = threading.local()


@contextlib.contextmanager
def job_thread(job_id: str) -> Iterator[None]:
    """While open, unmarked records of the calling thread belong to ``job_id`` (a
    partition running in a thread of the job's process: its plugins' records included)."""
    previous = getattr(_bound, "job_id", None)
    _bound.job_id = job_id
    try:
        with use_scope(job_scope(job_id)):  # and its secrets are the job's
            yield
    finally:
        _bound.job_id = previous


class JobContextFilter(logging.Filter):
    """Stamps ``job_id`` on records that lack one and come from the job's thread (or from
    a thread bound to the job with :func:`job_thread`)."""

    def __init__(self, job_id: str, thread: int | None) -> None:
        super().__init__()
        self.job_id = job_id
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "job_id") and (
            self.thread is None or record.thread == self.thread or getattr(_bound, "job_id", None) == self.job_id
        ):
            record.job_id = self.job_id
        return True


def _handler(handler: logging.Handler, level: int | str) -> logging.Handler:
    handler.setLevel(level)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    return handler


def setup_service_logging(
    log_dir: Path | None, level: str = "INFO", *, stdout: bool = False, stderr_level: str | None = None
) -> None:
    """Configure the root logger: the service log file, and stdout/stderr if asked.

    Safe to call more than once (handlers installed by an earlier call are replaced).
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_adu", False):
            root.removeHandler(h)
            h.close()
    root.setLevel(logging.DEBUG)
    handlers: list[logging.Handler] = []
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(_handler(logging.FileHandler(log_dir / "adu.log", encoding="utf-8"), level))
    if stdout:
        handlers.append(_handler(logging.StreamHandler(sys.stdout), level))
    if stderr_level:
        handlers.append(_handler(logging.StreamHandler(sys.stderr), stderr_level))
    for h in handlers:
        h._adu = True  # type: ignore[attr-defined]
        root.addHandler(h)
    for noisy in ("alembic", "sqlalchemy", "urllib3", "werkzeug", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def job_logging(
    log_path: Path, job_id: str, level: str = "INFO", *, whole_process: bool = False
) -> Iterator[logging.Handler]:
    """Send every record of ``job_id`` to the job's JSON-lines file while the context is
    open; unmarked records of this thread (of the whole process for a pool worker that
    serves one job) count as the job's."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = _handler(logging.FileHandler(log_path, encoding="utf-8"), level)
    handler.addFilter(JobFilter(job_id))
    stamp = JobContextFilter(job_id, None if whole_process else threading.get_ident())
    handler.filters.insert(0, stamp)
    root = logging.getLogger()
    root.addHandler(handler)
    adu = logging.getLogger("adu")
    previous = adu.level
    if adu.getEffectiveLevel() > handler.level:
        adu.setLevel(handler.level)  # the job log gets ADU's records whatever the root level
    try:
        yield handler
    finally:
        adu.setLevel(previous)
        root.removeHandler(handler)
        handler.close()
        with contextlib.suppress(OSError):
            os.chmod(log_path, 0o640)


def read_job_log(log_path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a job log, oldest first (lines that are not JSON are kept as text)."""
    try:
        fh = log_path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"level": "INFO", "message": line}
            if isinstance(entry, dict):
                yield entry
