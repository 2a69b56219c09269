"""Vertica's type system as the test server needs it: parse type names, map to wire oids.

The oids, the type modifiers and the binary layouts below are taken from vertica-python
1.4 (``vertica_python/datatypes.py``: ``VerticaType``, ``getPrecision``/``getScale``/
``getIntervalRange``; ``vertica/deserializer.py``: the ``load_*_binary`` functions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --- type oids (vertica_python.datatypes.VerticaType) ---------------------------------
BOOL, INT8, FLOAT8, CHAR, VARCHAR, DATE, TIME, TIMESTAMP, TIMESTAMPTZ = 5, 6, 7, 8, 9, 10, 11, 12, 13
INTERVAL, TIMETZ, NUMERIC, VARBINARY, UUID = 14, 15, 16, 17, 20
INTERVALYM, LONGVARCHAR, LONGVARBINARY, BINARY = 114, 115, 116, 117
ROW, ARRAY = 300, 301
#: 1-D ARRAY of primitive oid X is 1500 + offset, SET is 2700 + offset (datatypes.py).
_COLL_OFFSET = {
    BOOL: 5,
    INT8: 6,
    FLOAT8: 7,
    CHAR: 8,
    VARCHAR: 9,
    DATE: 10,
    TIME: 11,
    TIMESTAMP: 12,
    TIMESTAMPTZ: 13,
    INTERVAL: 14,
    TIMETZ: 15,
    NUMERIC: 16,
    VARBINARY: 17,
    LONGVARBINARY: 18,
    LONGVARCHAR: 19,
    UUID: 20,
    INTERVALYM: 21,
    BINARY: 22,
}

# interval range bits of the type modifier (datatypes.py INTERVAL_MASK_*)
INTERVAL_MASK_DAY2SEC = (1 << 19) | (1 << 26) | (1 << 27) | (1 << 28)
INTERVAL_MASK_YEAR2MONTH = (1 << 18) | (1 << 17)


@dataclass
class VType:
    """One Vertica type: ``kind`` is the canonical lower-case name (``varchar``, ``array``)."""

    kind: str
    length: int | None = None  # char/varchar/binary/long lengths, geometry size
    precision: int | None = None  # numeric precision, or seconds precision of time types
    scale: int | None = None
    element: VType | None = None  # array / set
    fields: list[tuple[str, VType]] = field(default_factory=list)  # row

    # -- names -------------------------------------------------------------------------
    def sql(self) -> str:
        """The name ``v_catalog.columns.data_type`` shows (and DDL accepts)."""
        k = self.kind
        if k == "numeric":
            return f"numeric({self.precision},{self.scale})"
        if k in ("char", "varchar", "binary", "varbinary", "long varchar", "long varbinary"):
            return f"{k}({self.length})"
        if k in ("time", "timetz", "timestamp", "timestamptz") and self.precision not in (None, 6):
            return f"{k}({self.precision})"
        if k in ("geometry", "geography"):
            return f"{k}({self.length})" if self.length else k
        if k == "array":
            return f"Array[{self.element.sql()}]"  # type: ignore[union-attr]
        if k == "set":
            return f"Set[{self.element.sql()}]"  # type: ignore[union-attr]
        if k == "row":
            return "Row(" + ", ".join(f"{n} {t.sql()}" for n, t in self.fields) + ")"
        if k == "interval ds":
            return "interval day to second"
        if k == "interval ym":
            return "interval year to month"
        return k

    # -- DuckDB storage ----------------------------------------------------------------
    def storage(self) -> str:
        """The DuckDB type that stores values of this type in the test server."""
        k = self.kind
        if k in ("int",):
            return "BIGINT"
        if k == "float":
            return "DOUBLE"
        if k == "numeric":
            return f"DECIMAL({self.precision},{self.scale})" if (self.precision or 0) <= 38 else "VARCHAR"
        if k in ("char", "varchar", "long varchar", "geometry", "geography"):
            return "VARCHAR"
        if k in ("binary", "varbinary", "long varbinary"):
            return "BLOB"
        if k == "boolean":
            return "BOOLEAN"
        if k == "date":
            return "DATE"
        if k == "time":
            return "TIME"
        if k == "timetz":  # DuckDB's Arrow export drops the offset: keep it beside the time
            return "STRUCT(t TIME, o INTEGER)"
        if k == "timestamp":
            return "TIMESTAMP"
        if k == "timestamptz":
            return "TIMESTAMP WITH TIME ZONE"
        if k in ("interval ds", "interval ym"):  # microseconds / months, as on the wire
            return "BIGINT"
        if k == "uuid":
            return "UUID"
        if k in ("array", "set"):
            return f"{self.element.storage()}[]"  # type: ignore[union-attr]
        if k == "row":
            return "STRUCT(" + ", ".join(f"{n} {t.storage()}" for n, t in self.fields) + ")"
        raise ValueError(k)

    # -- wire --------------------------------------------------------------------------
    def oid(self) -> int:
        k = self.kind
        simple = {
            "boolean": BOOL,
            "int": INT8,
            "float": FLOAT8,
            "char": CHAR,
            "varchar": VARCHAR,
            "date": DATE,
            "time": TIME,
            "timestamp": TIMESTAMP,
            "timestamptz": TIMESTAMPTZ,
            "interval ds": INTERVAL,
            "interval ym": INTERVALYM,
            "timetz": TIMETZ,
            "numeric": NUMERIC,
            "varbinary": VARBINARY,
            "uuid": UUID,
            "long varchar": LONGVARCHAR,
            "long varbinary": LONGVARBINARY,
            "binary": BINARY,
            "row": ROW,
            "geometry": LONGVARBINARY,
            "geography": LONGVARBINARY,
        }
        if k in simple:
            return simple[k]
        if k in ("array", "set"):
            el = self.element
            assert el is not None
            if el.kind in ("array", "set", "row"):
                return ARRAY
            return (1500 if k == "array" else 2700) + _COLL_OFFSET[el.oid()]
        raise ValueError(k)

    def typmod(self) -> int:
        """The type modifier (inverse of datatypes.getPrecision/getScale/getDisplaySize)."""
        k = self.kind
        if k == "numeric":
            return ((self.precision or 37) << 16 | (self.scale or 0)) + 4
        if k in ("char", "varchar", "binary", "varbinary", "long varchar", "long varbinary"):
            return (self.length or 80) + 4
        if k in ("time", "timetz", "timestamp", "timestamptz"):
            return 6 if self.precision is None else self.precision
        if k == "interval ds":
            return INTERVAL_MASK_DAY2SEC | (6 if self.precision is None else self.precision)
        if k == "interval ym":
            return INTERVAL_MASK_YEAR2MONTH
        if k in ("array", "set") and self.element is not None:
            return self.element.typmod()
        return -1

    def size(self) -> int:
        if self.kind in (
            "int",
            "float",
            "date",
            "time",
            "timetz",
            "timestamp",
            "timestamptz",
            "interval ds",
            "interval ym",
        ):
            return 8
        if self.kind == "boolean":
            return 1
        if self.kind == "uuid":
            return 16
        if self.kind in ("char", "binary"):
            return self.length or 1
        return -1

    def numeric_bytes(self) -> int:
        """Byte width of a binary NUMERIC (deserializer: ``(precision//19+1)*8``)."""
        return ((self.precision or 37) // 19 + 1) * 8


_BASE = {
    "int": "int",
    "integer": "int",
    "bigint": "int",
    "smallint": "int",
    "tinyint": "int",
    "int8": "int",
    "float": "float",
    "float8": "float",
    "double precision": "float",
    "real": "float",
    "numeric": "numeric",
    "decimal": "numeric",
    "number": "numeric",
    "money": "numeric",
    "char": "char",
    "character": "char",
    "varchar": "varchar",
    "character varying": "varchar",
    "long varchar": "long varchar",
    "binary": "binary",
    "varbinary": "varbinary",
    "bytea": "varbinary",
    "raw": "varbinary",
    "long varbinary": "long varbinary",
    "boolean": "boolean",
    "bool": "boolean",
    "date": "date",
    "time": "time",
    "timetz": "timetz",
    "time with time zone": "timetz",
    "timestamp": "timestamp",
    "datetime": "timestamp",
    "smalldatetime": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "uuid": "uuid",
    "geometry": "geometry",
    "geography": "geography",
}


def parse_type(text: str) -> VType:
    """Parse a Vertica type name such as ``numeric(20,6)`` or ``Row(a int, b Array[date])``."""
    t = text.strip()
    low = t.lower()
    m = re.fullmatch(r"(array|set)\s*\[(.*)\]", t, re.IGNORECASE | re.DOTALL)
    if m:
        inner = m.group(2)
        # Array[type, maxelements]: drop a trailing bound
        parts = _split_top(inner)
        return VType(m.group(1).lower(), element=parse_type(parts[0]))
    m = re.fullmatch(r"row\s*\((.*)\)", t, re.IGNORECASE | re.DOTALL)
    if m:
        fields = []
        for part in _split_top(m.group(1)):
            name, _, typ = part.strip().partition(" ")
            fields.append((name.strip('"'), parse_type(typ)))
        return VType("row", fields=fields)
    if low.startswith("interval"):
        return VType("interval ym" if "year" in low or "month" in low else "interval ds")
    m = re.fullmatch(r"([a-z ]+?)\s*(?:\((\d+)(?:\s*,\s*(\d+))?\))?", low)
    if not m or m.group(1) not in _BASE:
        raise ValueError(f"unknown Vertica type {text!r}")
    kind = _BASE[m.group(1)]
    a = int(m.group(2)) if m.group(2) else None
    b = int(m.group(3)) if m.group(3) else None
    if kind == "numeric":
        return VType(kind, precision=a or 37, scale=b if b is not None else (15 if a is None else 0))
    if kind in ("char", "binary"):
        return VType(kind, length=a or 1)
    if kind in ("varchar", "varbinary"):
        return VType(kind, length=a or 80)
    if kind in ("long varchar", "long varbinary"):
        return VType(kind, length=a or 1048576)
    if kind in ("time", "timetz", "timestamp", "timestamptz"):
        return VType(kind, precision=a)
    if kind in ("geometry", "geography"):
        return VType(kind, length=a or 1048576)
    return VType(kind)


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside brackets or parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return [p.strip() for p in out]


def from_duckdb(type_text: str) -> VType:
    """The Vertica type a computed DuckDB result column is shown as."""
    t = type_text.upper()
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
        return VType("int")
    if t in ("DOUBLE", "FLOAT"):
        return VType("float")
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", t)
    if m:
        return VType("numeric", precision=int(m.group(1)), scale=int(m.group(2)))
    if t == "VARCHAR":
        return VType("varchar", length=65000)
    if t == "BLOB":
        return VType("varbinary", length=65000)
    if t == "BOOLEAN":
        return VType("boolean")
    if t == "DATE":
        return VType("date")
    if t == "TIME":
        return VType("time")
    if t == "TIMESTAMP":
        return VType("timestamp")
    if t == "TIMESTAMP WITH TIME ZONE":
        return VType("timestamptz")
    if t == "INTERVAL":
        return VType("interval ds")
    if t == "UUID":
        return VType("uuid")
    if t.endswith("[]"):
        return VType("array", element=from_duckdb(type_text[:-2]))
    return VType("varchar", length=65000)
