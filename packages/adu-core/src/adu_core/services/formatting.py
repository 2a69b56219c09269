"""Sizes and durations for people: one way, in the CLI, the web pages and notebooks."""

from __future__ import annotations

#: shown for a missing value (a frontend may pass its own)
MISSING = "-"


def human_bytes(n: float | None, *, missing: str = MISSING) -> str:
    """``1.5 MB``: binary multiples, one decimal from KB on."""
    if n is None:
        return missing
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def human_duration(seconds: float | None, *, missing: str = MISSING) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 07 min``."""
    if seconds is None:
        return missing
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"
