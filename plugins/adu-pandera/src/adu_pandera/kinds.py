"""What kind of values an Arrow column holds, and how rule arguments are coerced to it.

A rules file is written by people in YAML, so ``ge: 0`` on a ``numeric(12,2)`` column,
``ge: 2024-01-01`` on a ``timestamptz`` column or ``isin: [US, GB]`` on an enum column must
all mean the obvious thing. Every argument is converted here, before the job starts, to a
Python value polars compares exactly with the column; a value that cannot be is refused
with a message saying what was expected.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pyarrow as pa

NUMBER = "number"
STRING = "string"
BOOLEAN = "boolean"
DATE = "date"
TIMESTAMP = "timestamp"
TIME = "time"
OTHER = "other"

#: what the message says is expected, per kind.
EXPECTED = {
    NUMBER: "a number",
    STRING: "a string",
    BOOLEAN: "true or false",
    DATE: "a date (YYYY-MM-DD)",
    TIMESTAMP: "a timestamp (YYYY-MM-DD[ HH:MM:SS[+HH:MM]])",
    TIME: "a time (HH:MM:SS)",
}


def kind_of(arrow_type: pa.DataType) -> str:
    """The kind of values a column of ``arrow_type`` holds."""
    t = arrow_type
    if isinstance(t, pa.ExtensionType):
        return kind_of(t.storage_type)
    if pa.types.is_dictionary(t):
        return kind_of(t.value_type)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return NUMBER
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return STRING
    if pa.types.is_boolean(t):
        return BOOLEAN
    if pa.types.is_date(t):
        return DATE
    if pa.types.is_timestamp(t):
        return TIMESTAMP
    if pa.types.is_time(t):
        return TIME
    return OTHER


class ArgError(ValueError):
    """An argument that does not fit the column (the message says what was expected)."""


def coerce_value(value: Any, arrow_type: pa.DataType) -> Any:
    """``value`` as a Python value comparable with a column of ``arrow_type``.

    :raises ArgError: when it cannot be (the message says what was expected).
    """
    kind = kind_of(arrow_type)
    if kind == OTHER:
        raise ArgError(
            f"value checks are not supported on columns of type {arrow_type} "
            "(numbers, strings, booleans, dates, times and timestamps are)"
        )
    expected = EXPECTED[kind]
    if value is None:
        raise ArgError(f"expected {expected}, got null")
    if kind == NUMBER:
        return _number(value, arrow_type, expected)
    if kind == STRING:
        if isinstance(value, str):
            return value
        raise ArgError(f"expected {expected}, got {_describe(value)}")
    if kind == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise ArgError(f"expected {expected}, got {_describe(value)}")
    if kind == DATE:
        return _date(value, expected)
    if kind == TIMESTAMP:
        return _timestamp(value, arrow_type, expected)
    return _time(value, expected)


def _number(value: Any, arrow_type: pa.DataType, expected: str) -> Any:
    if isinstance(value, bool):
        raise ArgError(f"expected {expected}, got {_describe(value)}")
    if pa.types.is_decimal(arrow_type):
        # exact: 0.1 in YAML is a float, but on a numeric column it means the decimal 0.1
        if isinstance(value, (int, float, decimal.Decimal, str)):
            try:
                dec = decimal.Decimal(str(value))
            except decimal.InvalidOperation:
                raise ArgError(f"expected {expected}, got {_describe(value)}") from None
            if dec.is_finite():
                return dec
        raise ArgError(f"expected {expected}, got {_describe(value)}")
    if isinstance(value, (int, float)):
        if pa.types.is_integer(arrow_type) and isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    raise ArgError(f"expected {expected}, got {_describe(value)}")


def _date(value: Any, expected: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ArgError(f"expected {expected}, got a timestamp")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ArgError(f"expected {expected}, got {_describe(value)}")


def _timestamp(value: Any, arrow_type: pa.DataType, expected: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ArgError(f"expected {expected}, got {_describe(value)}") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise ArgError(f"expected {expected}, got {_describe(value)}")
    stamp: dt.datetime = value
    if getattr(arrow_type, "tz", None):
        # a timestamp without offset on a timestamptz column is read as UTC
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
    elif stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp


def _time(value: Any, expected: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    # YAML 1.1 reads 10:30:00 as a sexagesimal integer (37800)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 86400:
        return dt.time(value // 3600, value // 60 % 60, value % 60)
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise ArgError(f"expected {expected}, got {_describe(value)}")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float, decimal.Decimal)):
        return f"the number {value}"
    if isinstance(value, dt.datetime):
        return f"the timestamp {value.isoformat()}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


describe = _describe
