"""What each test value must look like once read: in ADU's Arrow form, and from the driver.

``expected(value, type)`` is the Arrow (``to_pylist``) form ADU must produce for a value
of the test tables; ``from_driver(value, type)`` turns what vertica-python's own
deserializers return into that same form (independently of ADU's code), so one expected
value checks both decoders; ``same`` compares with NaN equal to NaN and time zones kept.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from typing import Any

from vertica_types import parse_type


def expected(value: Any, type_text: str) -> Any:
    vt = parse_type(type_text)
    if value is None:
        return None
    k = vt.kind
    if k == "numeric" and (vt.precision or 0) > 76:
        q = decimal.Decimal(value).quantize(
            decimal.Decimal(1).scaleb(-(vt.scale or 0)), context=decimal.Context(prec=2000)
        )
        return f"{q:f}"
    if k == "char":
        return value.ljust(vt.length)
    if k == "binary":
        return bytes(value).ljust(vt.length or 1, b"\x00")
    if k == "timetz":
        off = value.utcoffset()
        return {"time": value.replace(tzinfo=None), "utc_offset_s": int(off.total_seconds())}
    if k == "timestamptz":
        return value.astimezone(dt.UTC)
    if k in ("array", "set"):
        return [None if x is None else expected(x, elem(type_text)) for x in value]
    if k == "row":
        return dict(value)
    return value


def elem(type_text: str) -> str:
    return type_text[type_text.index("[") + 1 : type_text.rindex("]")]


def from_driver(value: Any, type_text: str) -> Any:
    """A vertica-python value (text or binary transfer) in ADU's Arrow form."""
    vt = parse_type(type_text)
    if value is None:
        return None
    k = vt.kind
    if k == "interval ds":  # dateutil relativedelta
        return dt.timedelta(
            days=value.days,
            hours=value.hours,
            minutes=value.minutes,
            seconds=value.seconds,
            microseconds=value.microseconds,
        )
    if k == "interval ym":
        return value.years * 12 + value.months
    if k == "timetz":
        return {"time": value.replace(tzinfo=None), "utc_offset_s": int(value.utcoffset().total_seconds())}
    if k == "timestamptz":
        return value.astimezone(dt.UTC)
    if k == "uuid":
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    if k == "set":  # a Python set: compare in a stable order
        return sorted(value, key=repr)
    if isinstance(value, bytes) and k in ("geometry", "geography", "varchar", "long varchar", "char"):
        return value.decode()
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b and (a.tzinfo is None) == (b.tzinfo is None)
    return (type(a) is type(b) and bool(a == b)) or (
        isinstance(a, int | float) and isinstance(b, int | float) and a == b
    )
