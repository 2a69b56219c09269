"""Small SQL text helpers for the test server's statement parsers.

The test server does not parse SQL in general: it recognises the statements ADU and the
tests send (CREATE/DROP/ALTER TABLE, INSERT/UPDATE/DELETE, GRANT/REVOKE, COPY) and hands
expressions to DuckDB. These helpers split such statements at top-level keywords and
commas, outside quotes and parentheses, and read (possibly quoted) identifiers.
"""

from __future__ import annotations

import re


class Unsupported(Exception):
    """A statement form the test server does not model."""


def _scan(text: str) -> list[int]:
    """Parenthesis depth before each character, or -1 inside a quoted string/identifier."""
    depth, out, quote = 0, [], ""
    for ch in text:
        if quote:
            out.append(-1)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
            out.append(-1)
            continue
        if ch in "([":
            out.append(depth)
            depth += 1
            continue
        if ch in ")]":
            depth -= 1
        out.append(depth)
    return out


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` at depth 0 outside quotes; parts stripped."""
    depth = _scan(text)
    parts, start = [], 0
    for i, ch in enumerate(text):
        if ch == sep and depth[i] == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def find_keyword(text: str, keyword: str, start: int = 0) -> int:
    """Index of the first top-level ``keyword`` (a whole word, any case), or -1."""
    depth = _scan(text)
    for m in re.finditer(rf"\b{re.escape(keyword)}\b", text, re.IGNORECASE):
        if m.start() >= start and depth[m.start()] == 0:
            return m.start()
    return -1


_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
QUALIFIED = rf"{_IDENT}(?:\s*\.\s*{_IDENT})?"


def ident(text: str) -> str:
    """One identifier: quoted ones keep their case, bare ones are as written."""
    t = text.strip()
    if t.startswith('"'):
        return t[1:-1].replace('""', '"')
    return t


def qualified_name(text: str) -> tuple[str, str]:
    """``schema.table`` (quoted or bare) -> (schema, table); a bare name is in ``public``."""
    parts = re.findall(_IDENT, text.strip())
    if len(parts) == 1:
        return "public", ident(parts[0])
    if len(parts) == 2:
        return ident(parts[0]), ident(parts[1])
    raise Unsupported(f"cannot read the table name {text!r}")


def leading_name(text: str) -> tuple[tuple[str, str], str]:
    """The qualified name at the start of ``text`` and the rest of the text."""
    m = re.match(rf"\s*({QUALIFIED})", text)
    if not m:
        raise Unsupported(f"expected a table name at {text[:40]!r}")
    return qualified_name(m.group(1)), text[m.end() :]
