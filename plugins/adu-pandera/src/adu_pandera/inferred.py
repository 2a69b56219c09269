"""Checks inferred from what the source says about a table, without any rules file.

* the Arrow type of each column (``dtype``): compared per batch on the schema, no row work;
* NOT NULL (``nullable``);
* ``varchar(n)`` / ``char(n)`` lengths (``max_length``, pandera's ``str_length``);
* enum members (``enum``, pandera's ``isin``);
* numeric precision (``precision``) only where the Arrow type does not already bound it:
  a ``decimal128(p, s)`` column with the source's own precision and scale cannot hold a
  value that breaks them (the type is the check), so no row work is spent there;
* primary-key and unique-constraint uniqueness (``primary_key``, ``unique_key``): over the
  whole table, after the write (:mod:`adu_pandera.table_checks`).
"""

from __future__ import annotations

import decimal

import pyarrow as pa
from adu_core.models import ColumnInfo, TableInfo

from adu_pandera import kinds
from adu_pandera.checks import CheckSpec


def column_checks(col: ColumnInfo) -> list[CheckSpec]:
    """The row checks inferred for one column (``dtype`` excluded: it is per batch)."""
    out: list[CheckSpec] = []
    props = col.properties or {}
    kind = kinds.kind_of(col.arrow_type)
    if not col.nullable:
        out.append(CheckSpec(col.name, "nullable", kwargs={"nullable": False}, origin="inferred"))
    max_length = props.get("max_length")
    if kind == kinds.STRING and isinstance(max_length, int) and max_length > 0:
        out.append(
            CheckSpec(
                col.name,
                "max_length",
                builtin="str_length",
                kwargs={"max_value": max_length},
                origin="inferred",
            )
        )
    members = props.get("enum")
    if kind == kinds.STRING and members:
        out.append(
            CheckSpec(
                col.name,
                "enum",
                builtin="isin",
                kwargs={"allowed_values": [str(m) for m in members]},
                origin="inferred",
            )
        )
    precision, scale = props.get("precision"), props.get("scale")
    if not (isinstance(precision, int) and isinstance(scale, int) and 0 <= scale <= precision):
        return out
    if kind == kinds.STRING and props.get("encoding") == "postgresql-text":
        # numeric(p,s) exported as PostgreSQL's text: the text must be such a number
        out.append(
            CheckSpec(
                col.name,
                "precision",
                builtin="str_matches",
                kwargs={"precision": precision, "scale": scale, "_pattern": numeric_text_pattern(precision, scale)},
                origin="inferred",
            )
        )
    if pa.types.is_decimal(col.arrow_type):
        t = col.arrow_type
        if (t.precision - t.scale) > (precision - scale):
            out.append(
                CheckSpec(
                    col.name,
                    "precision",
                    kwargs={
                        "precision": precision,
                        "scale": scale,
                        "_limit": decimal.Decimal(10) ** (precision - scale),
                    },
                    origin="inferred",
                )
            )
    return out


def numeric_text_pattern(precision: int, scale: int) -> str:
    """A regular expression for PostgreSQL's text output of a ``numeric(p, s)`` value:
    at most ``p - s`` integer digits (a single 0 when there are none), exactly ``s``
    decimals, or NaN."""
    whole = precision - scale
    integer = "0" if whole == 0 else f"(0|[1-9][0-9]{{0,{whole - 1}}})"
    decimals = rf"\.[0-9]{{{scale}}}" if scale else ""
    return rf"^(-?{integer}{decimals}|NaN)$"


def table_checks(table: TableInfo) -> list[CheckSpec]:
    """The whole-table checks inferred for ``table``: key uniqueness."""
    out: list[CheckSpec] = []
    seen: set[tuple[str, ...]] = set()
    if table.primary_key:
        pk = tuple(table.primary_key)
        seen.add(pk)
        out.append(
            CheckSpec(",".join(pk), "primary_key", kwargs={"columns": list(pk)}, scope="table", origin="inferred")
        )
    for key in table.unique_keys:
        key = tuple(key)
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(
            CheckSpec(",".join(key), "unique_key", kwargs={"columns": list(key)}, scope="table", origin="inferred")
        )
    return out
