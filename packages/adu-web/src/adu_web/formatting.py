"""Jinja filters: sizes, durations, times, counts."""

from __future__ import annotations

import time
from typing import Any

from adu_core.secrets import redact_text, redact_url
from flask import Flask

#: shown for a missing value
NONE = "\u2013"


def human_bytes(value: Any) -> str:
    if value is None:
        return NONE
    n = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def human_duration(seconds: Any) -> str:
    if seconds is None:
        return NONE
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(s), 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def timestamp(value: Any) -> str:
    """UTC, to the second (the servers of an air-gapped site rarely share a zone with it)."""
    if value is None:
        return NONE
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(value))) + "Z"


def number(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, float):
        return f"{value:,.0f}"
    return f"{int(value):,}"


def percent(value: Any) -> str:
    return NONE if value is None else f"{100 * float(value):.0f}%"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        bytes=human_bytes,
        duration=human_duration,
        ts=timestamp,
        num=number,
        pct=percent,
        redact=redact_text,
        redact_url=redact_url,
    )
    app.jinja_env.globals["now"] = time.time
