"""Checks Arrow clears alone (varchar lengths): same verdicts as the polars expressions
pandera's backend runs, and polars is not even imported when every row passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
from adu_core.models import ColumnInfo, TableInfo
from adu_pandera.checks import CheckSpec, failure_expr
from adu_pandera.validator import has_arrow_pretest, passes_in_arrow
from hypothesis import given
from hypothesis import strategies as st
from validation_kit import batch_of, failed_list, table_validator

MAX_LENGTH = CheckSpec("s", "max_length", builtin="str_length", kwargs={"max_value": 3}, origin="inferred")


@given(
    st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=30),
    st.sampled_from([pa.string(), pa.large_string()]),
    st.integers(0, 4),
    st.booleans(),
)
def test_arrow_clears_exactly_what_polars_passes(values, typ, skip, chunked):
    # a slice of a longer array (its offsets start past 0), alone or as a chunked column
    column = pa.array([None] * skip + values, typ).slice(skip)
    if chunked:
        column = pa.chunked_array([column[: len(values) // 2], column[len(values) // 2 :]], typ)
    failing = pl.DataFrame({"s": pl.Series(values, dtype=pl.String)}).select(failure_expr(MAX_LENGTH, "s")).to_series()
    # True only when polars finds no failing row: the pretest never hides a failure
    assert passes_in_arrow(MAX_LENGTH, column) == (not failing.any())


def test_a_null_that_owns_bytes_gets_the_right_verdict():
    """Arrow lets a null slot own bytes: the lengths read from the offsets then overstate,
    and the exact character count decides."""
    data = pa.py_buffer(b"abLONGVALUE")
    offsets = pa.py_buffer(pa.array([0, 2, 11], pa.int32()).buffers()[1])
    validity = pa.py_buffer(bytes([0b01]))  # the second slot is null but spans 9 bytes
    column = pa.Array.from_buffers(pa.string(), 2, [validity, offsets, data], null_count=1)
    assert column.to_pylist() == ["ab", None]
    assert passes_in_arrow(MAX_LENGTH, column) is True  # 9 bytes owned by the null do not count
    assert passes_in_arrow(MAX_LENGTH, pa.array(["ab", None, "toolong"])) is False
    assert passes_in_arrow(MAX_LENGTH, pa.array(["ab", None, "abc"])) is True


def test_only_an_upper_length_bound_has_an_arrow_pretest():
    assert has_arrow_pretest(MAX_LENGTH)
    both = CheckSpec("s", "str_length", builtin="str_length", kwargs={"min_value": 1, "max_value": 3})
    assert not has_arrow_pretest(both)
    assert not passes_in_arrow(both, pa.array(["ab"]))  # left to polars
    assert not has_arrow_pretest(CheckSpec("s", "ge", builtin="greater_than_or_equal_to", kwargs={"min_value": 0}))


def test_a_too_long_value_still_fails_its_row():
    table = TableInfo("public", "t", columns=(
        ColumnInfo("code", "character varying(3)", pa.string(), properties={"max_length": 3}),
    ))  # fmt: skip
    tv = table_validator(table)
    verdict = tv.validate(batch_of(table, {"code": ["abc", "€€€", None, "abcd"]}))
    assert failed_list(verdict, 4) == [False, False, False, True]


PROBE = """
import sys
import pyarrow as pa
from adu_core.models import ColumnInfo, TableInfo
from adu_pandera.validator import PanderaValidator
table = TableInfo("public", "t", columns=(
    ColumnInfo("k", "integer", pa.int32(), nullable=False),
    ColumnInfo("code", "character varying(3)", pa.string(), properties={"max_length": 3}),
))
tv = PanderaValidator({"infer": True}).for_table(table)
ok = pa.record_batch([pa.array([1, 2], pa.int32()), pa.array(["abc", None])], schema=table.arrow_schema())
bad = pa.record_batch([pa.array([1, 2], pa.int32()), pa.array(["abcd", "x"])], schema=table.arrow_schema())
tv.validate(ok)
print("polars" in sys.modules, end=" ")
print(tv.validate(bad).failed.to_pylist(), "polars" in sys.modules)
"""


def test_polars_is_imported_only_when_a_batch_breaks_a_check():
    src = Path(__file__).resolve().parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split(" ", 1) == ["False", "[True, False] True\n"]
