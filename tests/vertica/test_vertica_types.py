"""Every one of the 26 column types, decoded by vertica-python's own deserializers and by ADU's.

The statement is the one ADU's source sends for the table (its select expressions:
``ST_AsText`` for GEOMETRY, a VARCHAR cast for NUMERIC wider than 76 digits), run once
through a plain vertica-python cursor (the driver decodes each value with its
``load_*_text`` / ``load_*_binary`` functions) and once through ``VerticaSource.read``
(ADU's vectorised decoder), in text and in binary transfer. Both results must equal the
value the test table holds.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from adu_core.plugin.components import NeverCancelled
from adu_vertica import VerticaSource
from adu_vertica.connect import connect
from vertica_env import VerticaEnv
from vertica_expect import expected, from_driver, same
from vertica_tables import SCHEMA, TYPES_COLUMNS, TYPES_ROWS


def _with_option(url: str, key: str, value: str) -> str:
    return url + ("&" if "?" in url else "?") + f"{key}={value}"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_every_type_through_the_driver_and_through_adu(vertica: VerticaEnv, binary: bool) -> None:
    assert len(TYPES_COLUMNS) == 26
    url = _with_option(vertica.url, "binary_transfer", "1" if binary else "0")
    src = VerticaSource(url, {"profile": "exact"})
    try:
        table = next(t for t in src.discover() if t.qualified_name == f"{SCHEMA}.all_types")
        part = src.partitions(table, target=1)[0]
        sql = VerticaSource.partition_sql(part, None)
        conn = connect(url)
        try:
            cur = conn.cursor()
            cur.execute(sql + ' ORDER BY "id"')
            driver_rows = cur.fetchall()
            desc = cur.description
        finally:
            conn.close()
        with src.snapshot() as snap:
            batches = list(src.read(part, snapshot=snap, batch_rows=3, cancel=NeverCancelled()))
    finally:
        src.close()
    assert {c.format_code for c in desc} == {1 if binary else 0}
    kinds = {c.name: (c.type_code, c.precision, c.scale, c.null_ok) for c in desc}
    assert kinds["n"] == (16, 12, 2, True) and kinds["id"][3] is False
    adu_rows = pa.Table.from_batches(batches, schema=table.arrow_schema()).sort_by("id").to_pylist()
    assert len(driver_rows) == len(adu_rows) == len(TYPES_ROWS)
    checked = 0
    for want_row, drow, arow in zip(TYPES_ROWS, driver_rows, adu_rows, strict=True):
        for col, want, dval in zip(TYPES_COLUMNS, want_row, drow, strict=True):
            exp: Any = expected(want, col.type)
            got_driver = from_driver(dval, col.type)
            if col.type.startswith("Set[") and exp is not None:
                exp = sorted(exp, key=repr)  # a SET has no order: compare sorted
                assert same(exp, sorted(arow[col.name], key=repr)), f"ADU, {col.name} row {want_row[0]}"
            else:
                assert same(exp, arow[col.name]), f"ADU, {col.name} row {want_row[0]}: {arow[col.name]!r} != {exp!r}"
            assert same(exp, got_driver), f"driver, {col.name} row {want_row[0]}: {got_driver!r} != {exp!r}"
            checked += 1
    assert checked == 26 * len(TYPES_ROWS)
