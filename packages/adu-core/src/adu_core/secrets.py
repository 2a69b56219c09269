"""Secrets: removing passwords from URLs and masking known secret values in text.

Every handler of every logger carries :class:`adu_core.logs.RedactingFilter`, which uses
:func:`redact_text`; models use :func:`redact_url` before anything is stored.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_lock = threading.Lock()
_known: set[str] = set()

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


def remember_secret(*values: str | None) -> None:
    """Register exact secret values; they are masked wherever they appear in logs, as
    they are and URL-encoded (the form they take inside a URL)."""
    from urllib.parse import quote

    with _lock:
        for v in values:
            if v and len(v) >= 1:
                _known.add(v)
                _known.add(quote(v, safe=""))


def forget_secrets() -> None:
    """Drop every registered secret value (used by tests)."""
    with _lock:
        _known.clear()


def known_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_known)


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
