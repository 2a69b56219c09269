"""The cheap key-uniqueness paths (adu_pandera.uniqueness): the presence map decides
integer-like keys that arrive in any order without DuckDB, and every way it could be
wrong falls back to the exact check, so a duplicate is always caught."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.models import ColumnInfo, TableInfo
from adu_pandera import table_checks, uniqueness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_kit import batch_of, table_validator


def keyed_table(arrow_type: pa.DataType, *, unique_only: bool = False) -> TableInfo:
    columns = (ColumnInfo("k", "key", arrow_type, nullable=unique_only), ColumnInfo("v", "integer", pa.int32()))
    if unique_only:
        return TableInfo("public", "keyed", columns=columns, unique_keys=(("k",),))
    return TableInfo("public", "keyed", columns=columns, primary_key=("k",))


def run_check(tmp_path: Path, table: TableInfo, partitions: list[list[Any]], monkeypatch: Any) -> tuple[Any, bool]:
    """Feed each partition to its own worker copy (batches of 3 rows), stage one file per
    partition, merge, check; returns (the key check's result, whether DuckDB ran it)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    ran: list[str] = []
    real = table_checks.run

    def spy(specs: Any, files: Any) -> Any:
        ran.extend(s.name for s in specs)
        return real(specs, files)

    monkeypatch.setattr(table_checks, "run", spy)
    coordinator = table_validator(table)
    partials, files = [], []
    schema = pa.schema([f.with_nullable(True) for f in table.arrow_schema()])
    for i, keys in enumerate(partitions):
        worker = table_validator(table)
        for start in range(0, len(keys), 3):
            worker.validate(batch_of(table, {"k": keys[start : start + 3]}))
        partials.append(worker.partial())
        path = tmp_path / f"part-{i}.parquet"
        pq.write_table(pa.table({"k": pa.array(keys, schema.field("k").type), "v": [None] * len(keys)}), path)
        files.append(str(path))
    coordinator.merge(partials)
    (result,) = [r for r in coordinator.check_table(files) if r.check in ("primary_key", "unique_key")]
    return result, bool({"primary_key", "unique_key"} & set(ran))


def test_unordered_unique_integer_keys_are_proven_without_duckdb(tmp_path: Path, monkeypatch: Any) -> None:
    # an updated row moved to the end of the heap: no partition sees the key increasing
    result, duck = run_check(tmp_path, keyed_table(pa.int64()), [[1, 2, 4, 5, 6], [8, 9, 3, 7]], monkeypatch)
    assert (result.failed_rows, duck) == (0, False)


def test_a_duplicate_in_unordered_keys_is_caught_and_reported(tmp_path: Path, monkeypatch: Any) -> None:
    result, duck = run_check(tmp_path, keyed_table(pa.int64()), [[5, 1, 2, 9], [3, 4, 5, 7, 1, 1]], monkeypatch)
    assert duck  # the exact check gives the counts and samples
    assert result.failed_rows == 5
    assert result.samples == [{"key": {"k": 1}, "rows": 3}, {"key": {"k": 5}, "rows": 2}]


@pytest.mark.parametrize(
    ("arrow_type", "values"),
    [
        (pa.int32(), [7, -3, 100_000, -5]),
        (pa.date32(), [dt.date(2020, 1, 3), dt.date(1999, 12, 31), dt.date(2020, 1, 1)]),
        (
            pa.timestamp("us", "UTC"),
            [dt.datetime(2021, 5, 1, 0, 0, 0, 5, tzinfo=dt.UTC), dt.datetime(2021, 5, 1, tzinfo=dt.UTC)],
        ),
        (pa.decimal128(12, 2), [Decimal("10.01"), Decimal("-99999.99"), Decimal("10.00")]),
        (pa.time64("us"), [dt.time(12, 0, 1), dt.time(0, 0), dt.time(12, 0)]),
    ],
)
def test_integer_like_types(tmp_path: Path, monkeypatch: Any, arrow_type: pa.DataType, values: list[Any]) -> None:
    table = keyed_table(arrow_type)
    result, duck = run_check(tmp_path / "u", table, [values[1:], values[:1]], monkeypatch)
    assert (result.failed_rows, duck) == (0, False)
    result, duck = run_check(tmp_path / "d", table, [values[1:], [values[-1], *values[:1]]], monkeypatch)
    assert (result.failed_rows, duck) == (2, True)


def test_unique_constraint_keys_with_nulls(tmp_path: Path, monkeypatch: Any) -> None:
    table = keyed_table(pa.int64(), unique_only=True)
    result, duck = run_check(tmp_path / "u", table, [[3, None, 1], [None, 2]], monkeypatch)
    assert (result.failed_rows, duck) == (0, False)  # SQL: NULLs never collide
    result, _ = run_check(tmp_path / "d", table, [[3, None, 1], [None, 3]], monkeypatch)
    assert result.failed_rows == 2


def test_a_span_too_wide_goes_to_the_exact_check(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(uniqueness, "MAX_SPAN", 10)
    result, duck = run_check(tmp_path / "u", keyed_table(pa.int64()), [[20, 1], [5]], monkeypatch)
    assert (result.failed_rows, duck) == (0, True)
    result, duck = run_check(tmp_path / "d", keyed_table(pa.int64()), [[20, 1], [20]], monkeypatch)
    assert (result.failed_rows, duck) == (2, True)


def test_files_holding_keys_the_workers_never_saw_are_not_trusted(tmp_path: Path) -> None:
    table = keyed_table(pa.int64())
    coordinator, worker = table_validator(table), table_validator(table)
    worker.validate(batch_of(table, {"k": [3, 1, 2]}))
    coordinator.merge([worker.partial()])
    path = tmp_path / "part.parquet"
    pq.write_table(
        pa.table({"k": pa.array([3, 1, 2, 99, 99], pa.int64()), "v": pa.array([None] * 5, pa.int32())}), path
    )
    assert uniqueness.unique_by_presence([str(path)], "k", (1, 3)) is None
    (result,) = [r for r in coordinator.check_table([str(path)]) if r.check == "primary_key"]
    assert result.failed_rows == 2


def test_duplicates_are_counted_across_hash_passes(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(table_checks, "KEYS_PER_PASS", 3)
    monkeypatch.setattr(uniqueness, "MAX_SPAN", 0)  # straight to DuckDB, in 5 passes of ~3 keys
    keys = [9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1, 1, 6]
    result, duck = run_check(tmp_path, keyed_table(pa.int64()), [keys], monkeypatch)
    assert duck
    assert result.failed_rows == 7
    assert result.samples == [{"key": {"k": 1}, "rows": 3}, {"key": {"k": 6}, "rows": 2}, {"key": {"k": 9}, "rows": 2}]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    partitions=st.lists(
        st.lists(st.integers(-(2**62), 2**62) | st.integers(0, 40), max_size=9), min_size=1, max_size=4
    ),
    narrow=st.booleans(),
)
def test_presence_map_matches_brute_force(
    tmp_path_factory: Any, monkeypatch: Any, partitions: list[list[int]], narrow: bool
) -> None:
    if narrow:
        partitions = [[abs(k) % 50 for k in p] for p in partitions]
    tmp = tmp_path_factory.mktemp("keys")
    result, _ = run_check(tmp, keyed_table(pa.int64()), partitions, monkeypatch)
    counts = Counter(k for p in partitions for k in p)
    assert result.failed_rows == sum(n for n in counts.values() if n > 1)


def test_composite_keys_across_hash_passes(tmp_path: Path, monkeypatch: Any) -> None:
    from adu_pandera.checks import CheckSpec

    monkeypatch.setattr(table_checks, "KEYS_PER_PASS", 2)
    path = tmp_path / "t.parquet"
    a = [1, 1, 2, 2, 1, 3, 3, None, None]
    b = ["x", "y", "x", "x", "x", "z", "w", "q", "q"]
    pq.write_table(pa.table({"a": pa.array(a, pa.int64()), "b": b}), path)
    spec = CheckSpec("a,b", "unique_key", kwargs={"columns": ["a", "b"]}, scope="table")
    (result,) = table_checks.run([spec], [str(path)])
    assert result.failed_rows == 4  # (1, x) twice, (2, x) twice; NULL keys never collide
    assert result.samples == [{"key": {"a": 1, "b": "x"}, "rows": 2}, {"key": {"a": 2, "b": "x"}, "rows": 2}]


AS_INTEGERS_PROBE = """
import struct, sys
import pyarrow as pa
from adu_pandera.uniqueness import as_integers

def ints(typ, fmt, values, valid=None):  # built from buffers: pa.array(list) imports pandas
    bitmap = None if valid is None else pa.py_buffer(bytes([sum(1 << i for i, v in enumerate(valid) if v)]))
    data = pa.py_buffer(struct.pack("<%d%s" % (len(values), fmt), *values))
    return pa.Array.from_buffers(typ, len(values) // (2 if typ.id == pa.decimal128(1).id else 1), [bitmap, data])

arrays = [
    ints(pa.int64(), "q", [1, 0, 3, 2**62], [1, 0, 1, 1]).slice(1),
    ints(pa.uint16(), "H", [5, 6, 7]),
    ints(pa.int8(), "b", [-1, 2]),
    ints(pa.date32(), "i", [1, 0, -1], [1, 0, 1]),
    ints(pa.timestamp("us", "UTC"), "q", [1, 2, 3]).slice(1, 1),
    ints(pa.decimal128(10, 2), "q", [150, 0, -225, -1]).slice(1),
    ints(pa.int32(), "i", []),
]
print([as_integers(a).tolist() for a in arrays], str(as_integers(arrays[0]).dtype))
print("pandas" in sys.modules)
"""


def test_as_integers_reads_the_values_without_importing_pandas() -> None:
    """pyarrow's ``to_numpy`` imports pandas: ~0.4 s and ~25 MB per export of a table with an
    integer key, for nothing else (found in issue 19's profile)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", AS_INTEGERS_PROBE], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[[3, 4611686018427387904], [5, 6, 7], [-1, 2], [1, -1], [2], [-225], []] int64", "False"]


def test_short_arrays_are_read_without_numpy() -> None:
    """A small table's key span and string lengths come from memoryview, not numpy (whose
    import is ~60 ms of a 1-row export once pyarrow no longer imports it): the same values
    as :func:`uniqueness.as_integers`, slices and nulls included."""
    import subprocess
    import sys

    probe = (
        "from adu_core import late_numpy\nlate_numpy.install()\n"
        + AS_INTEGERS_PROBE.replace("import as_integers", "import small_integers")
        .replace("as_integers(a).tolist()", "small_integers(a)")
        .replace("str(as_integers(arrays[0]).dtype)", "'list'")
        .replace('print("pandas" in sys.modules)', 'print("numpy" in sys.modules)')
        + "from adu_pandera.validator import _longest_bytes\n"
        + "def strs(typ, fmt, texts, valid):\n"
        + "    ends = [0]\n"
        + "    for t in texts: ends.append(ends[-1] + len(t.encode()))\n"
        + "    bitmap = pa.py_buffer(bytes([sum(1 << i for i, v in enumerate(valid) if v)]))\n"
        + "    offsets = pa.py_buffer(struct.pack('<%d%s' % (len(ends), fmt), *ends))\n"
        + "    data = pa.py_buffer(''.join(texts).encode())\n"
        + "    return pa.Array.from_buffers(typ, len(texts), [bitmap, offsets, data])\n"
        + "s = strs(pa.string(), 'i', ['a', '', 'héllo', 'xy'], [1, 0, 1, 1]).slice(1)\n"
        + "L = pa.large_string()\n"
        + "print(_longest_bytes(s), _longest_bytes(s.slice(2)), _longest_bytes(s.slice(0, 1)),"
        + " _longest_bytes(pa.chunked_array([strs(L, 'q', ['abc'], [1]), strs(L, 'q', ['abcd'], [1])])))\n"
        + 'print("numpy" in sys.modules)\n'
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [
        "[[3, 4611686018427387904], [5, 6, 7], [-1, 2], [1, -1], [2], [-225], []] list",
        "False",
        "6 2 None 4",
        "False",
    ]


def test_a_long_array_reads_the_same_as_a_short_one() -> None:
    values = [(i * 7919) % 100_003 - 50_000 for i in range(uniqueness.SMALL + 10)]
    arr = pa.array([None if i % 11 == 0 else v for i, v in enumerate(values)], pa.int64()).slice(3)
    assert sorted(uniqueness.as_integers(arr).tolist()) == sorted(uniqueness.small_integers(arr))
    from adu_pandera.validator import _longest_bytes

    texts = pa.array(["x" * (i % 37) if i % 5 else None for i in range(uniqueness.SMALL * 2)]).slice(1)
    assert _longest_bytes(texts) == 36 == _longest_bytes(texts.slice(0, 40))
