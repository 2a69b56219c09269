"""Key uniqueness at next to no cost: what the workers note per batch, and the cheap proofs
and exact checks the coordinator runs before the general one (DuckDB over the files).

A single-column key is settled, cheapest first, by:

1. **Ranges** (no pass over the files): every partition saw the key strictly increasing,
   and the partitions' ranges are disjoint. A table loaded in key order and never updated,
   read in ctid order, is the common case.
2. **A presence map** (one pass over the key column of the staged files, memory bounded):
   for integer-like keys (integers, dates, timestamps, times, durations, decimals of
   precision <= 18) whose values span at most :data:`MAX_SPAN` between the smallest and
   the largest the workers saw, one byte per possible value is set for every key read;
   the key is unique exactly when the number of bytes set equals the number of non-null
   keys read. This is what a table whose rows were updated needs: an update moves the
   row to the end of the heap, so a ctid-ordered read no longer sees the key increasing
   and (1) proves nothing. 3M bigint keys: 0.09 s of CPU, a 3 MB map (the process grew
   ~27 MB, reading included), where DuckDB's grouping took 0.78 s and ~230 MB; 12M keys:
   a 12 MB map.
3. Otherwise (text keys, composite keys, sparse integer keys) and whenever (2) finds a
   duplicate, DuckDB groups the key over the staged files (exact, with samples), with a
   memory limit and a spill directory so the coordinator stays bounded too.

Both fast paths are exact: (1) follows from the order the workers verified on every row
they passed on, and is only used when the staged files hold exactly the rows the workers
saw; (2) reads the staged files themselves. Neither trusts the source's constraint: a
PRIMARY KEY enforced by PostgreSQL proves the *source* rows unique, not that the export
read each row once and decoded each key faithfully, which is what this check is for.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from adu_core.lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow.compute as pc
else:
    pc = lazy_module("pyarrow.compute")  # ~0.06 s of start-up: imported when first used

#: the widest value span (largest - smallest + 1) the presence map covers: one byte each
MAX_SPAN = 64 * 1024 * 1024


def orderable(arrow_type: pa.DataType | None) -> bool:
    """Types whose Arrow order is Python's order too (floats are left out: NaN)."""
    if arrow_type is None:
        return False
    t = arrow_type
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_decimal(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_date(t)
        or pa.types.is_timestamp(t)
    )


def integer_like(arrow_type: pa.DataType | None) -> bool:
    """Types whose values map one-to-one onto integers the presence map can index."""
    if arrow_type is None:
        return False
    t = arrow_type
    if pa.types.is_decimal(t):
        return bool(t.bit_width == 128 and t.precision <= 18)
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_date(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_time(t)
        or pa.types.is_duration(t)
    )


def as_integers(arr: pa.Array) -> Any:
    """The non-null values of an :func:`integer_like` array as a numpy int64 array.

    Read from the values buffer: Arrow's ``to_numpy`` imports pandas (~0.35 s, on every
    export of a table with an integer key, however small) only to ask whether it is there.
    """
    import numpy as np

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.drop_null(arr)
    if not len(arr):
        return np.empty(0, dtype=np.int64)
    t = arr.type
    if pa.types.is_decimal(t):
        # two's complement 128-bit little endian: a value of precision <= 18 is its low word
        words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
        return words[2 * arr.offset : 2 * (arr.offset + len(arr)) : 2].copy()
    if not pa.types.is_integer(t):
        t = pa.int64() if t.bit_width == 64 else pa.int32()
        arr = arr.view(t)
    dtype = np.dtype(f"<{'i' if pa.types.is_signed_integer(t) else 'u'}{t.bit_width // 8}")
    values = np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)]
    return values.astype(np.int64, copy=False)


#: arrays up to this length are read in Python (memoryview), not numpy: numpy's import
#: (~0.12 s) is a quarter of a small table's export, and pyarrow no longer imports it
#: for us (adu_core.late_numpy)
SMALL = 4096


def buffer_ints(buffer: pa.Buffer, fmt: str, start: int, stop: int) -> memoryview:
    """Items ``start:stop`` of ``buffer`` read as struct format ``fmt`` (native byte order,
    as Arrow's buffers are)."""
    raw = memoryview(buffer).cast("B")
    size = struct.calcsize(fmt)
    view: memoryview = raw[start * size : stop * size].cast(fmt)  # type: ignore[call-overload]
    return view


def valid_positions(arr: pa.Array) -> list[int] | None:
    """Indexes of the non-null values of ``arr`` (None: no null), from its validity bitmap."""
    if not arr.null_count:
        return None
    bits = memoryview(arr.buffers()[0]).cast("B")
    off = arr.offset
    return [i for i in range(len(arr)) if bits[(off + i) >> 3] >> ((off + i) & 7) & 1]


def small_integers(arr: pa.Array | pa.ChunkedArray) -> list[int]:
    """:func:`as_integers` as a list, for a short array: no numpy."""
    if isinstance(arr, pa.ChunkedArray):
        return [v for chunk in arr.chunks for v in small_integers(chunk)]
    t = arr.type
    if pa.types.is_decimal(t):
        # two's complement 128-bit little endian: a value of precision <= 18 is its low word
        words = buffer_ints(arr.buffers()[1], "q", 2 * arr.offset, 2 * (arr.offset + len(arr)))
        values = words[::2].tolist()
    else:
        if not pa.types.is_integer(t):
            t = pa.int64() if t.bit_width == 64 else pa.int32()
            arr = arr.view(t)
        fmt = {8: "b", 16: "h", 32: "i", 64: "q"}[t.bit_width]
        if not pa.types.is_signed_integer(t):
            fmt = fmt.upper()
        values = buffer_ints(arr.buffers()[1], fmt, arr.offset, arr.offset + len(arr)).tolist()
    keep = valid_positions(arr)
    return values if keep is None else [values[i] for i in keep]


def new_run(arrow_type: pa.DataType) -> dict[str, Any]:
    """The per-partition state of one key column (plain data: it travels in partials)."""
    return {"ok": True, "first": None, "last": None, "int": integer_like(arrow_type), "lo": None, "hi": None, "n": 0}


def follow(run: dict[str, Any], arr: pa.Array) -> None:
    """Note one batch of a key column: whether it stays strictly increasing (one Arrow
    comparison of the column with itself shifted by one) and, for integer-like keys, the
    smallest and largest value and the non-null count (one ``min_max``)."""
    if run.get("int") and len(arr) > arr.null_count:
        if len(arr) <= SMALL:
            ints = small_integers(arr)
            lo, hi, n = min(ints), max(ints), len(ints)
        else:
            values = as_integers(arr)
            lo, hi, n = int(values.min()), int(values.max()), len(values)
        run["lo"] = lo if run["lo"] is None else min(run["lo"], lo)
        run["hi"] = hi if run["hi"] is None else max(run["hi"], hi)
        run["n"] += n
    if not run["ok"]:
        return
    if arr.null_count:
        run["ok"] = False
        return
    if len(arr) > 1 and not pc.all(pc.greater(arr.slice(1), arr.slice(0, len(arr) - 1))).as_py():
        run["ok"] = False
        return
    first, last = arr[0].as_py(), arr[len(arr) - 1].as_py()
    if run["last"] is not None and not first > run["last"]:
        run["ok"] = False
        return
    if run["first"] is None:
        run["first"] = first
    run["last"] = last


def proven_by_ranges(columns: Sequence[str], partials: Sequence[Any]) -> set[str]:
    """The key columns every partition saw strictly increasing, over disjoint ranges."""
    proven = set()
    for col in columns:
        ranges = []
        ok = True
        for part in partials:
            run = (part or {}).get("key_runs", {}).get(col)
            if run is None or not run["ok"]:
                ok = False
                break
            if run["first"] is not None:
                ranges.append((run["first"], run["last"]))
        if not ok:
            continue
        ranges.sort()
        if all(later[0] > earlier[1] for earlier, later in itertools.pairwise(ranges)):
            proven.add(col)
    return proven


def value_span(column: str, partials: Sequence[Any]) -> tuple[int, int] | None:
    """(smallest, largest) key any worker saw, when every worker tracked them (None: not
    integer-like, no values, or a partial without them)."""
    lows, highs = [], []
    for part in partials:
        run = (part or {}).get("key_runs", {}).get(column)
        if run is None or not run.get("int"):
            return None
        if run.get("lo") is not None:
            lows.append(run["lo"])
            highs.append(run["hi"])
    if not lows:
        return None
    return min(lows), max(highs)


def unique_by_presence(files: Sequence[str], column: str, span: tuple[int, int]) -> bool | None:
    """Whether the integer-like ``column`` of the Parquet ``files`` holds no value twice
    (nulls ignored), with one byte per value of ``span``, read one row group at a time.

    None when this cannot decide: the span is too wide, or a value lies outside it (the
    files are not what the workers saw). False on a duplicate (the caller then runs the
    exact check for the report's counts and samples).
    """
    import numpy as np
    import pyarrow.parquet as pq

    lo, hi = span
    width = hi - lo + 1
    if width <= 0 or width > MAX_SPAN:
        return None
    seen = np.zeros(width, dtype=np.uint8)
    count = 0
    for path in files:
        pf = pq.ParquetFile(path)
        try:
            for group in range(pf.metadata.num_row_groups):
                chunk = pf.read_row_group(group, columns=[column]).column(0)
                if not integer_like(chunk.type):
                    return None
                values = as_integers(chunk)
                if not len(values):
                    continue
                if int(values.min()) < lo or int(values.max()) > hi:
                    return None
                seen[values - lo] = 1
                count += len(values)
        finally:
            pf.close()
    return int(np.count_nonzero(seen)) == count
