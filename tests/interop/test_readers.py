"""The far side: every exported file read by DuckDB, polars, pandas and PySpark, every value
compared with PostgreSQL's text output (in each reader's own terms, see interop_helpers).

``portable`` (the default profile) must open in every reader with every value exact; the
``exact`` profile's matrix is checked against what the README says about it."""

from __future__ import annotations

import subprocess
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from interop_helpers import ADU, READERS, check_table, files_of, source_texts

#: what the exact profile cannot give each reader (the README's matrix): {reader: {table.column
#: or table.*: the reason}}; every other column of every table is exact there too
EXACT_GAPS: dict[str, dict[str, str]] = {
    "duckdb": {
        "zoo.n76": "decimal256 read as DOUBLE",
        "only_n76.n": "decimal256 read as DOUBLE",
        "collide.mycolumn": "a case-colliding name renamed",
        "collide.MYCOLUMN": "a case-colliding name renamed",
    },
    "polars": {
        "zoo.*": "decimal256 refused",
        "only_n76.*": "decimal256 refused",
        "only_time.t": "TIME 24:00:00 read as NULL",
    },
    "pandas": {},
    "spark": {
        "zoo.*": "decimal256 refused",
        "only_n76.*": "decimal256 refused",
        "only_uuid.*": "UUID refused",
        "only_time.*": "TIME refused",
        "collide.*": "case-insensitive names",
    },
}


def _results(reader: str, ctx: Any, interop_db, out, manifest) -> dict[str, dict[str, str]]:
    results = {}
    for entry in manifest["tables"]:
        assert entry["status"] == "succeeded", entry
        columns = [
            (c.get("original_name") or c["name"], c["source_type"])
            for c in entry["columns"]
            if not c.get("placeholder")
        ]
        texts = source_texts(interop_db.dsn, entry["schema"], entry["name"], columns) if columns else {}
        results[entry["name"]] = check_table(reader, ctx, files_of(out, entry), entry, texts, entry["rows"])
    return results


def _ctx(reader: str, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("spark") if reader == "spark" else None


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_portable_files_open_everywhere_with_every_value_exact(reader, interop_db, exports, request) -> None:
    out, manifest = exports["portable"]
    assert manifest["profile"] == "portable"
    results = _results(reader, _ctx(reader, request), interop_db, out, manifest)
    wrong = {f"{t}.{c}": why for t, cols in results.items() for c, why in cols.items() if why != "ok"}
    assert wrong == {}, reader
    counted = {t: len(cols) for t, cols in results.items()}
    assert counted["zoo"] == 40 and counted["collide"] == 4 and counted["nocols"] == 1 and len(counted) == 9
    print(f"\n{reader}: portable, {sum(counted.values())} columns exact in {len(counted)} tables")


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_uuid_as_text_opens_everywhere_with_every_value_exact(reader, interop_db, uuid_text_export, request) -> None:
    """``--source-option uuid=text``: uuid as its 36-character text, read as text everywhere."""
    out, manifest = uuid_text_export
    results = _results(reader, _ctx(reader, request), interop_db, out, manifest)
    wrong = {f"{t}.{c}": why for t, cols in results.items() for c, why in cols.items() if why != "ok"}
    assert wrong == {}, reader
    assert set(results) == {"zoo", "only_uuid"}
    for entry in manifest["tables"]:
        schema = pq.read_schema(files_of(out, entry)[0])
        assert schema.field("u").type == pa.string()
        assert schema.field("u").metadata[b"adu.encoding"] == b"postgresql-text"


def test_portable_uuid_is_16_plain_bytes(exports) -> None:
    """The portable profile's uuid: FIXED_LEN_BYTE_ARRAY(16) without the UUID annotation
    (Spark refuses the annotation, reads the plain bytes), ``adu.encoding = uuid-bytes``."""
    out, manifest = exports["portable"]
    (entry,) = [t for t in manifest["tables"] if t["name"] == "only_uuid"]
    path = files_of(out, entry)[0]
    column = pq.ParquetFile(path).schema.column(1)
    assert (column.name, column.physical_type, column.length) == ("u", "FIXED_LEN_BYTE_ARRAY", 16)
    assert column.logical_type.type == "NONE"
    field = pq.read_schema(path).field("u")
    assert field.type == pa.binary(16)
    assert (field.metadata[b"adu.source_type"], field.metadata[b"adu.encoding"]) == (b"uuid", b"uuid-bytes")
    exact_out, exact = exports["exact"]
    (entry,) = [t for t in exact["tables"] if t["name"] == "only_uuid"]
    assert pq.ParquetFile(files_of(exact_out, entry)[0]).schema.column(1).logical_type.type == "UUID"


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_exact_profile_matches_the_readme_matrix(reader, interop_db, exports, request) -> None:
    out, manifest = exports["exact"]
    assert manifest["profile"] == "exact"
    results = _results(reader, _ctx(reader, request), interop_db, out, manifest)
    wrong = {f"{t}.{c}": why for t, cols in results.items() for c, why in cols.items() if why != "ok"}
    print(f"\n{reader}, exact profile, not exact: {wrong}")
    for name, why in wrong.items():  # the reason, as the README gives it
        print(f"  {name}: {why}")
    assert set(wrong) == set(EXACT_GAPS[reader]), wrong


def test_the_fallbacks_and_the_placeholder_are_in_the_manifest(exports) -> None:
    for out, manifest in exports.values():
        # the far side's own checks read both profiles
        for args in (["verify", str(out)], ["inspect", str(out), "--table", "public.nocols"]):
            proc = subprocess.run([ADU, *args], capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, (args, proc.stderr[-1000:])
        tables = {t["name"]: t for t in manifest["tables"]}
        far = {c["name"]: c for c in tables["far"]["columns"]}
        assert (far["n"].get("fallback"), far["ts"].get("fallback"), far["tstz"].get("fallback")) == (
            "text",
            "text",
            "text",
        )
        assert tables["nocols"]["rows"] == 3
        assert [c["name"] for c in tables["nocols"]["columns"]] == ["_adu_placeholder"]
    portable = {t["name"]: t for t in exports["portable"][1]["tables"]}
    names = [(c["name"], c.get("original_name")) for c in portable["collide"]["columns"]]
    assert names == [("id", None), ("MyColumn", None), ("mycolumn__2", "mycolumn"), ("MYCOLUMN__3", "MYCOLUMN")]
