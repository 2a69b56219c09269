"""Manifest building, canonical JSON, checksum and merging for a retry."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import pyarrow as pa
from adu_core.manifest import (
    BASE_FORMAT_VERSION,
    FORMAT,
    build_manifest,
    canonical_json,
    checksum,
    is_sealed,
    merge_manifest,
    normalize,
    seal,
    sealed_json,
)
from adu_core.models import (
    CheckResult,
    ColumnInfo,
    ErrorInfo,
    FileResult,
    TableInfo,
    TableResult,
    TableStatus,
    ValidationReport,
)
from adu_export_kit import CREATED, SOURCE, export_tables, int_table, make_batches
from hypothesis import given, settings
from hypothesis import strategies as st


def _result(t: TableInfo, rows: int, *paths: str, **kw) -> TableResult:
    files = [FileResult(path=p, rows=rows, bytes=10, sha256="ab" * 32) for p in paths]
    return TableResult(
        t.schema, t.name, TableStatus.SUCCEEDED, rows=rows * len(files), bytes=10 * len(files), files=files, **kw
    )


def _build(tables, job_id="job-1", created=CREATED):
    """The manifest's JSON-ready dict (build_manifest gives the typed Manifest)."""
    return build_manifest(
        job_id=job_id, adu_version="0.1.0", source=SOURCE, sink="parquet", tables=tables, created_at=created
    ).to_dict()


def test_fields_of_issue_3() -> None:
    t = int_table("public", "orders")
    report = ValidationReport(mode="warn", checks=[CheckResult("not_null", "label", failed_rows=3)], failed_rows=3)
    m = _build([(t, _result(t, 5, "public/orders/part-00000.parquet", validation=report))])
    assert m["format"] == FORMAT and m["format_version"] == BASE_FORMAT_VERSION  # a full export: version 1
    assert (m["job_id"], m["adu_version"], m["sink"]) == ("job-1", "0.1.0", "parquet")
    assert m["created_at"] == "2026-01-02T03:04:05Z"
    src = m["source"]
    assert "s3cret-pw" not in json.dumps(m) and src["url"].startswith("postgresql://alice:")
    assert src["server_version"] == "15.4" and src["consistency"]["lsn"] == "0/1A2B3C"
    (entry,) = m["tables"]
    assert entry["schema"] == "public" and entry["name"] == "orders"
    assert entry["ddl"].startswith("CREATE TABLE")
    assert entry["columns"][2] == {
        "name": "price",
        "source_type": "numeric(12,2)",
        "arrow_type": "decimal128(12, 2)",
        "nullable": True,
    }
    assert entry["columns"][0]["nullable"] is False
    assert entry["rows"] == 5
    assert entry["files"] == [{"path": "public/orders/part-00000.parquet", "rows": 5, "bytes": 10, "sha256": "ab" * 32}]
    assert entry["validation"]["checks"][0]["check"] == "not_null"
    assert m["totals"] == {"tables": 1, "rows": 5, "bytes": 10, "files": 1}


def test_tables_are_sorted_and_failed_tables_say_why() -> None:
    a, b = int_table("s", "b"), int_table("s", "a")
    failed = TableResult("s", "b", TableStatus.FAILED, error=ErrorInfo("password=hunter2 refused"))
    m = _build([(a, failed), (b, _result(b, 1, "s/a/part-00000.parquet"))])
    assert [t["name"] for t in m["tables"]] == ["a", "b"]
    assert m["tables"][1]["status"] == "failed"
    assert "hunter2" not in m["tables"][1]["error"]


def test_canonical_json_is_sorted_stable_and_round_trips() -> None:
    t = int_table()
    m = seal(_build([(t, _result(t, 3, "public/items/part-00000.parquet"))]))
    data = canonical_json(m)
    assert data.endswith(b"\n")
    assert canonical_json(json.loads(data)) == data
    keys = list(json.loads(data))
    assert keys == sorted(keys)
    assert is_sealed(json.loads(data))
    edited = json.loads(data)
    edited["tables"][0]["rows"] = 4
    assert not is_sealed(edited)
    assert checksum(m) == m["checksum"]


def test_same_export_gives_the_same_manifest_apart_from_times_and_ids(tmp_path) -> None:
    t = int_table("public", "ünï cödé")
    m1, _ = export_tables(tmp_path / "a", [(t, [make_batches(t, 3000), make_batches(t, 10, start=3000)])])
    m2, _ = export_tables(tmp_path / "b", [(t, [make_batches(t, 3000), make_batches(t, 10, start=3000)])])
    assert canonical_json(m1) == canonical_json(m2)  # same job id and time: identical, file hashes too
    m3, _ = export_tables(
        tmp_path / "c", [(t, [make_batches(t, 3000), make_batches(t, 10, start=3000)])], job_id="job-2"
    )

    def strip(m):
        m = json.loads(canonical_json(m))
        for k in ("job_id", "created_at", "runs"):
            m.pop(k)
        for e in m["tables"]:
            e.pop("job_id")
            for f in e["files"]:
                f.pop("sha256"), f.pop("bytes")  # each file's metadata names its job id
        return m

    assert strip(m1) == strip(m3)


def test_merge_for_a_retry_replaces_rerun_tables_only() -> None:
    a, b, c = int_table("s", "a"), int_table("s", "b"), int_table("s", "c")
    old = seal(
        _build(
            [
                (a, _result(a, 1, "s/a/part-00000.parquet")),
                (b, TableResult("s", "b", TableStatus.FAILED, error=ErrorInfo("boom"))),
            ]
        )
    )
    new = _build(
        [(b, _result(b, 7, "s/b/part-00000.parquet")), (c, _result(c, 2, "s/c/part-00000.parquet"))],
        job_id="job-2",
        created=CREATED + dt.timedelta(hours=1),
    )
    m = merge_manifest(old, new).to_dict()
    assert [(t["name"], t["status"], t["rows"], t["job_id"]) for t in m["tables"]] == [
        ("a", "succeeded", 1, "job-1"),
        ("b", "succeeded", 7, "job-2"),
        ("c", "succeeded", 2, "job-2"),
    ]
    assert m["job_id"] == "job-2"
    assert [r["job_id"] for r in m["runs"]] == ["job-1", "job-2"]
    assert m["totals"] == {"tables": 3, "rows": 10, "bytes": 30, "files": 3}
    assert "checksum" not in m
    assert merge_manifest(m, new).to_dict()["runs"] == m["runs"]  # merging twice adds nothing


def test_normalize_keeps_values_json_cannot_hold() -> None:
    out = normalize(
        {
            "nan": math.nan,
            "inf": -math.inf,
            "d": Decimal("1.10"),
            "b": b"\x00\xff",
            "t": (1, 2),
            "when": dt.date(2020, 1, 2),
            3: {"x"},
        }
    )
    assert out == {
        "nan": "NaN",
        "inf": "-Infinity",
        "d": "1.10",
        "b": "AP8=",
        "t": [1, 2],
        "when": "2020-01-02",
        "3": ["x"],
    }
    canonical_json(out)  # strict JSON: no NaN literal


def test_validation_samples_with_awkward_values_serialise() -> None:
    t = TableInfo("s", "t", (ColumnInfo("v", "float8", pa.float64()),))
    report = ValidationReport(checks=[CheckResult("in_range", "v", 1, samples=[{"v": math.nan}])], failed_rows=1)
    m = _build([(t, _result(t, 1, "s/t/part-00000.parquet", validation=report))])
    assert json.loads(canonical_json(m))["tables"][0]["validation"]["checks"][0]["samples"] == [{"v": "NaN"}]


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
        max_leaves=20,
    )
)
def test_canonical_json_is_a_fixed_point(value) -> None:
    data = canonical_json({"v": value})
    assert canonical_json(json.loads(data)) == data


_JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.decimals(allow_nan=False)
    | st.binary(max_size=8)
    | st.dates(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
    max_leaves=20,
)
#: top-level keys around "checksum" in sort order, and the key itself (never kept)
_KEYS = st.sampled_from(
    ["", "a", "c", "check", "checksum", "checksum0", "checksuma", "d", "tables", "z", "é"]
) | st.text(max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _JSONISH, max_size=8))
def test_sealed_json_is_the_canonical_json_of_the_sealed_manifest(body) -> None:
    assert sealed_json(body) == canonical_json(seal(body))


def test_sealed_json_of_a_real_manifest() -> None:
    t = int_table()
    m = _build([(t, _result(t, 3, "public/items/part-00000.parquet"))])
    data = sealed_json(m)
    assert data == canonical_json(seal(m))
    assert is_sealed(json.loads(data))
