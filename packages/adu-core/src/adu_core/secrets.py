"""Secrets: removing passwords from URLs and masking known secret values in text.

Known values are held per scope (:func:`secret_scope`: one per job, one per web
request), never in one list for the whole process.

Every handler of every logger carries :class:`adu_core.logs.RedactingFilter`, which uses
:func:`redact_text`; models use :func:`redact_url` before anything is stored.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# scheme://user:password@host  (password up to the last '@' before the host part)
_URL_PASSWORD = re.compile(
    r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?P<pw>[^\s@/]*(?:@[^\s@/]*)*?)(?P<post>@[^\s@/]+)"
)
# key=value and "key": "value" forms (libpq conninfo, JSON, query strings, reprs)
_KEY_VALUE = re.compile(
    r"(?P<key>\b[\w\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|private[_\-]?key)[\w\-]*)"
    r"(?P<sep>[\"']?\s*[=:]\s*)"
    r"(?P<val>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s&;,)}\]]+)",
    re.IGNORECASE,
)


class SecretScope:
    """The exact secret values one job or one web request knows (its typed passwords,
    the password of its source URL or named connection): masked in what that job or
    request writes, and nowhere else.

    There is no process-wide list: a password typed for one job must not mask (nor
    reveal, by masking it) anything in another job's log or another user's page.
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._values: set[str] = set()

    def add(self, *values: str | None) -> None:
        from urllib.parse import quote

        with self._lock:
            for v in values:
                if v:
                    self._values.add(v)
                    self._values.add(quote(v, safe=""))

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


#: the scope of the code running now (a job, a web request); None outside any
_current: contextvars.ContextVar[SecretScope | None] = contextvars.ContextVar("adu_secret_scope", default=None)
#: the scope of a process that opens none (the CLI, a notebook: one user, their own jobs)
_process = SecretScope("process")
#: the open scopes of jobs, by job id: a partition thread of the job, or a record
#: stamped with the job's id, is masked with them
_jobs: dict[str, SecretScope] = {}
_jobs_lock = threading.Lock()


@contextlib.contextmanager
def secret_scope(job_id: str | None = None, *, name: str = "") -> Iterator[SecretScope]:
    """Open a scope of secrets for a job (``job_id``) or a web request: what is
    remembered inside it is masked only inside it (and in records of that job)."""
    scope = SecretScope(name or job_id or "")
    token = _current.set(scope)
    if job_id:
        with _jobs_lock:
            outer = _jobs.get(job_id)
            _jobs[job_id] = scope
    try:
        yield scope
    finally:
        _current.reset(token)
        if job_id:
            with _jobs_lock:
                if outer is not None:
                    _jobs[job_id] = outer
                elif _jobs.get(job_id) is scope:
                    del _jobs[job_id]
        scope.clear()


@contextlib.contextmanager
def use_scope(scope: SecretScope | None) -> Iterator[None]:
    """Make an open ``scope`` current while the context is open (a thread working for a
    job: :func:`adu_core.logs.job_thread`); nothing changes when it is None."""
    if scope is None:
        yield
        return
    token = _current.set(scope)
    try:
        yield
    finally:
        _current.reset(token)


def enter_scope(scope: SecretScope | None) -> None:
    """Make ``scope`` current for the rest of this thread's context (a pool process that
    serves one job)."""
    _current.set(scope)


def job_scope(job_id: str | None) -> SecretScope | None:
    """The open scope of job ``job_id``, if any."""
    if not job_id:
        return None
    with _jobs_lock:
        return _jobs.get(job_id)


def current_scope() -> SecretScope:
    scope = _current.get()
    return scope if scope is not None else _process


def remember_secret(*values: str | None) -> None:
    """Register exact secret values in the current scope (the job's or the request's;
    the process's in a CLI or notebook): masked wherever they appear in what that scope
    writes, as they are and URL-encoded (the form they take inside a URL)."""
    current_scope().add(*values)


def forget_secrets() -> None:
    """Drop every value of the current scope (used by tests)."""
    current_scope().clear()


def known_secrets() -> frozenset[str]:
    """The secret values of the current scope."""
    return current_scope().values()


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with URL passwords, ``password=``-style fields and known secrets masked."""
    if not text:
        return text
    secrets = sorted(set(known_secrets()) | {e for e in extra if e}, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("pre") + MASK + m.group("post"), text)

    def _kv(m: re.Match[str]) -> str:
        val = m.group("val")
        if val in (MASK, f'"{MASK}"', f"'{MASK}'"):
            return m.group(0)
        quote = val[0] if val[:1] in "\"'" else ""
        return f"{m.group('key')}{m.group('sep')}{quote}{MASK}{quote}"

    return _KEY_VALUE.sub(_kv, text)


def url_password(url: str) -> str | None:
    """The password in ``url``, decoded (``p%40ss`` is ``p@ss``), or None.

    Decoded, because it is used as the password itself (given to the driver, stored for a
    worker, put back into a URL by :func:`with_password`, which encodes it again).
    """
    from urllib.parse import unquote

    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password is not None else None


def redact_url(url: str, mask: str = MASK) -> str:
    """``url`` without its password (replaced by ``mask``; removed when ``mask`` is empty).

    Query parameters named like a password are masked too. Text that is not a URL
    goes through :func:`redact_text`.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.scheme or (not parts.netloc and not parts.query):
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        if ":" in userinfo:
            netloc = f"{user}:{mask}@{host}" if mask else f"{user}@{host}"
    query = parts.query
    if query:
        query = _KEY_VALUE.sub(lambda m: f"{m.group('key')}{m.group('sep')}{mask or MASK}", query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put back (the inverse of ``redact_url(url, mask="")``)."""
    if not password:
        return url
    from urllib.parse import quote

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        sep = "&" if parts.query else ""
        query = f"{parts.query}{sep}password={quote(password, safe='')}"
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_SECRET_KEY_NAME = re.compile(r"password|passwd|pwd|secret|token|api[_\-]?key|private[_\-]?key", re.IGNORECASE)


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with the values of password-like keys (``sslpassword``, ``api_key``...)
    masked: what a page or an API answer may show."""
    return {k: (MASK if _SECRET_KEY_NAME.search(str(k)) and v not in (None, "") else v) for k, v in options.items()}
