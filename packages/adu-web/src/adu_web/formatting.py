"""Jinja filters: sizes, durations, times, counts."""

from __future__ import annotations

import time
from typing import Any

from adu_core.secrets import redact_text, redact_url
from adu_core.services import formatting
from flask import Flask

#: shown for a missing value
NONE = "\u2013"


def human_bytes(value: Any) -> str:
    return formatting.human_bytes(value, missing=NONE)


def human_duration(seconds: Any) -> str:
    return formatting.human_duration(seconds, missing=NONE)


def timestamp(value: Any) -> str:
    """UTC, to the second (the servers of an air-gapped site rarely share a zone with it)."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(value))) + "Z"
    except (TypeError, ValueError, OverflowError, OSError):  # None, a line without a time
        return NONE


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
