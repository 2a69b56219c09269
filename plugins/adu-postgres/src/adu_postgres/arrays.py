"""Typed Arrow lists for one-dimensional PostgreSQL arrays (source option ``arrays=list``).

By default every array is exported as PostgreSQL's own text (``{1,2,NULL}``,
``{{1,2},{3,4}}``, ``[0:1]={7,8}``): exact for any dimension and lower bound. With
``arrays=list``, arrays of integers, floats, oids and booleans become ``list<T>`` instead,
which readers can use without parsing. A list has no room for a second dimension or a
lower bound other than 1, so a value that has either fails the table loudly (naming the
column and the way back to text); it is never flattened or shifted.

The values still travel as PostgreSQL's text output (the COPY casts them to ``text``) and
are converted per batch with Arrow compute, without Python per value. The text is exact:
integers as written, floats in the shortest form that reads back to the same bits
(``extra_float_digits = 3``), ``NaN`` and ``±Infinity`` spelled out, ``t``/``f`` for
booleans, ``NULL`` for a null element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
from adu_core.lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow.compute as pc
else:  # ~0.05 s of wrappers, imported by every export's catalog: only when arrays=list is read
    pc = lazy_module("pyarrow.compute")

#: the encoding property of a column exported as a typed list
LIST_ENCODING = "postgresql-array-list"

#: array type (``pg_type.typname``) -> Arrow element type
ELEMENT_TYPES: dict[str, pa.DataType] = {
    "_int2": pa.int16(),
    "_int4": pa.int32(),
    "_int8": pa.int64(),
    "_oid": pa.uint32(),
    "_float4": pa.float32(),
    "_float8": pa.float64(),
    "_bool": pa.bool_(),
}


class ArrayShapeError(ValueError):
    """A value a ``list<T>`` cannot hold exactly (more than one dimension, a lower bound
    other than 1) or text that is not an array of the element type."""


def _elements(flat: pa.StringArray, element: pa.DataType) -> pa.Array:
    """The element strings as ``element`` values (``NULL`` is a null element)."""
    is_null = pc.equal(flat, "NULL")
    values = pc.if_else(is_null, pa.scalar(None, pa.string()), flat)
    if pa.types.is_boolean(element):
        bad = pc.and_(pc.invert(pc.is_in(values, pa.array(["t", "f"]))), pc.is_valid(values))
        if pc.any(bad).as_py():
            raise ArrayShapeError("an element is not t or f")
        return pc.equal(values, "t")
    try:
        return pc.cast(values, element)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ArrayShapeError(f"an element is not a {element}: {exc}") from None


def to_list(column: pa.Array, element: pa.DataType) -> pa.ListArray:
    """PostgreSQL text of one-dimensional arrays -> ``list<element>``, exactly.

    :raises ArrayShapeError: a value with several dimensions or a lower bound other than 1.
    """
    text = column.cast(pa.string())
    valid = pc.is_valid(text)
    if pc.any(pc.and_(valid, pc.invert(pc.starts_with(text, "{")))).as_py():
        raise ArrayShapeError("a value has a lower bound other than 1 (it is written [lower:upper]={...})")
    if pc.any(pc.starts_with(text, "{{")).as_py():
        raise ArrayShapeError("a value has more than one dimension")
    inner = pc.utf8_slice_codeunits(text, 1, -1)  # between the braces
    empty = pc.fill_null(pc.equal(inner, ""), False)
    parts = pc.split_pattern(inner, ",")
    flat = pc.list_flatten(parts)
    parents = pc.list_parent_indices(parts)
    keep = pc.invert(pc.take(empty, parents))  # "{}" splits into [""]: no element at all
    flat = pc.filter(flat, keep)
    lengths = pc.if_else(empty, 0, pc.list_value_length(parts))
    lengths = pc.fill_null(lengths, 0).cast(pa.int32())
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths)])
    values = _elements(flat, element)
    mask = pc.invert(valid) if text.null_count else None
    return pa.ListArray.from_arrays(offsets, values, type=pa.list_(element), mask=mask)


def convert_batch(batch: pa.RecordBatch, schema: pa.Schema, columns: Sequence[int]) -> pa.RecordBatch:
    """``batch`` (arrays as text in ``columns``) as ``schema`` (those columns as lists).

    :raises ArrayShapeError: with the column's name first, as ``name: reason``.
    """
    arrays = list(batch.columns)
    for i in columns:
        field = schema.field(i)
        try:
            arrays[i] = to_list(arrays[i], field.type.value_type)
        except ArrayShapeError as exc:
            raise ArrayShapeError(f"column {field.name!r}: {exc}") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def wire_schema(schema: pa.Schema, columns: Sequence[int]) -> pa.Schema:
    """``schema`` with the list ``columns`` as the text the COPY sends."""
    for i in columns:
        schema = schema.set(i, schema.field(i).with_type(pa.string()))
    return schema
