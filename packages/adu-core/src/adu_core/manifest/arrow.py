"""Arrow types as the manifest records and compares them.

A sink whose files carry an Arrow schema (Parquet, Arrow IPC...) checks a published file
against the manifest with :func:`schema_problem`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from adu_core.models import SOURCE_TYPE_KEY

if TYPE_CHECKING:
    from adu_core.manifest.model import ManifestColumn


def comparable_type(typ: pa.DataType) -> pa.DataType:
    """``typ`` with the names Parquet readers do not keep put back to Arrow's defaults.

    A map column read back from Parquet may name its entries struct after the column
    (``map<string, string ('col')>``), a list read from a file without rows names its
    items ``element`` where Arrow says ``item``; the values are the same, so types are
    compared (and recorded in the manifest) in this form.
    """
    if pa.types.is_map(typ):
        key = pa.field("key", comparable_type(typ.key_type), nullable=False)
        item = pa.field("value", comparable_type(typ.item_type), nullable=typ.item_field.nullable)
        return pa.map_(key, item, keys_sorted=typ.keys_sorted)
    if pa.types.is_large_list(typ):
        return pa.large_list(_item(typ.value_field))
    if pa.types.is_fixed_size_list(typ):
        return pa.list_(_item(typ.value_field), typ.list_size)
    if pa.types.is_list(typ):
        return pa.list_(_item(typ.value_field))
    if pa.types.is_struct(typ):
        return pa.struct([f.with_type(comparable_type(f.type)) for f in typ])
    return typ


def _item(field: pa.Field) -> pa.Field:
    return pa.field("item", comparable_type(field.type), nullable=field.nullable)


def type_name(typ: pa.DataType | str) -> str:
    """The name types are compared by (see :func:`comparable_type`)."""
    if isinstance(typ, str):
        return typ
    return str(comparable_type(typ))


def schema_problem(
    schema: pa.Schema, columns: Sequence[ManifestColumn], *, extra_last: str | None = None
) -> str | None:
    """What differs between a file's Arrow ``schema`` and the manifest's ``columns``
    (names in order, types by :func:`type_name`, source types from the field metadata);
    None when nothing does.

    :param extra_last: the name of a column the file must carry after the manifest's
        columns (the quarantine files' ``_adu_failed_checks``).
    """
    fields = list(schema)
    if extra_last is not None:
        if not fields or fields[-1].name != extra_last:
            return f"has no {extra_last} column"
        fields = fields[:-1]
    actual = []
    for f in fields:
        st = (f.metadata or {}).get(SOURCE_TYPE_KEY)
        actual.append((f.name, type_name(f.type), st.decode("utf-8", "replace") if st is not None else None))
    names, want = [a[0] for a in actual], [c.name for c in columns]
    if names != want:
        return f"schema differs from the manifest: columns {names}, manifest says {want}"
    for (name, typ, st), col in zip(actual, columns, strict=True):
        if typ != col.arrow_type:
            return f"schema differs from the manifest: column {name!r} is {typ}, manifest says {col.arrow_type}"
        if col.source_type is not None and st != col.source_type:
            return (
                f"schema differs from the manifest: column {name!r} has source type {st}, "
                f"manifest says {col.source_type}"
            )
    return None
