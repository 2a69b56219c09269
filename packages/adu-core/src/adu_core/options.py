"""``KEY=VALUE`` option text, as the CLI (``--source-option``) and the web form take it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adu_core.errors import UsageError


def parse_options(pairs: Iterable[str], what: str) -> dict[str, Any]:
    """``key=value`` pairs into a dict (ints, floats and booleans recognised).

    :param what: how the caller names one pair in an error (``--source-option``).
    :raises UsageError: a pair without ``=`` or with an empty key.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"{what} must look like key=value, not {pair!r}")
        key, value = pair.split("=", 1)
        value = value.strip()
        if not key.strip():
            raise UsageError(f"{what} needs a key before '=', not {pair!r}")
        v: Any = value
        if value.lower() in ("true", "yes", "on"):
            v = True
        elif value.lower() in ("false", "no", "off"):
            v = False
        else:
            for conv in (int, float):
                try:
                    v = conv(value)
                    break
                except ValueError:
                    continue
        out[key.strip()] = v
    return out


def parse_option_lines(text: str, what: str) -> dict[str, Any]:
    """One ``key=value`` per line; blank lines and ``#`` comments are skipped."""
    lines = [line.strip() for line in text.splitlines()]
    return parse_options([line for line in lines if line and not line.startswith("#")], what)
