"""The typed parts of incremental exports: job spec fields, manifest sections, the link."""

from __future__ import annotations

import json

import pytest
from adu_core.errors import UsageError
from adu_core.manifest import (
    FORMAT_VERSION,
    Manifest,
    ManifestError,
    ManifestPrevious,
    ManifestWatermark,
    canonical_json,
    link_manifest,
    seal,
)
from adu_core.models import JobSpec, parse_cursor

BASE = {
    "format": "adu-manifest",
    "format_version": 1,
    "job_id": "j1",
    "adu_version": "0.1.0",
    "created_at": "2026-12-07T00:00:00Z",
    "sink": "parquet",
    "source": {"url": "postgresql://u@h/db", "kind": "postgresql", "server_version": "15", "consistency": {}},
    "runs": [],
    "totals": {"tables": 2, "rows": 3, "bytes": 0, "files": 0},
}


def _table(name: str, status: str = "succeeded", cursor: dict | None = None) -> dict:
    t = {
        "schema": "s",
        "name": name,
        "kind": "table",
        "status": status,
        "job_id": "j1",
        "ddl": None,
        "columns": [{"name": "id", "source_type": "integer", "arrow_type": "int32", "nullable": False}],
        "primary_key": ["id"],
        "rows": 0,
        "bytes": 0,
        "files": [],
    }
    if cursor is not None:
        t["cursor"] = cursor
    return t


def test_job_spec_cursors_and_after_round_trip_through_json_and_yaml():
    spec = JobSpec(source="postgresql://u:pw@h/db", target="/x", cursors={"s.t": "ts"}, after="last")
    again = JobSpec.from_yaml(spec.to_yaml())
    assert again.cursors == {"s.t": "ts"} and again.after == "last" and "pw" not in spec.to_json()
    assert JobSpec.from_dict({"source": "a", "target": "b", "cursors": ["s.t=ts", "s.u=id"]}).cursors == {
        "s.t": "ts",
        "s.u": "id",
    }
    assert parse_cursor("my.schema.t=up=dated") == ("my.schema.t=up", "dated")
    for bad in ("s.t", "t=ts", "s.t="):
        with pytest.raises(UsageError, match=r"schema\.table=COLUMN"):
            parse_cursor(bad)
    with pytest.raises(UsageError):
        JobSpec(source="a", target="b", after=" ")


def test_manifest_sections_round_trip_exactly():
    data = {
        **BASE,
        "format_version": 2,
        "tables": [
            _table(
                "a", cursor={"column": "id", "source_type": "integer", "after": "1", "watermark": "3", "null_rows": 0}
            ),
            _table("b"),
        ],
        "watermarks": {"s.a": {"column": "id", "value": "3"}},
        "previous": {
            "manifest_sha256": "ab" * 32,
            "watermarks": {"s.a": {"column": "id", "value": "1"}},
            "job_id": "j0",
        },
    }
    sealed = seal(data)
    m = Manifest.from_dict(json.loads(canonical_json(sealed)))
    assert m.is_sealed() and m.is_delta and m.tables[0].cursor is not None and m.tables[1].cursor is None
    assert m.previous is not None and m.previous.watermarks["s.a"].value == "1"
    assert canonical_json(m) == canonical_json(sealed)
    with pytest.raises(ManifestError, match="previous: a delta's manifest has format version 2"):
        Manifest.from_dict({**data, "format_version": 1})
    with pytest.raises(ManifestError, match=r"previous\.manifest_sha256: expected 64 lowercase hex"):
        Manifest.from_dict({**data, "previous": {"manifest_sha256": "xyz", "watermarks": {}}})
    with pytest.raises(ManifestError, match=r"tables\[0\].cursor.null_rows"):
        Manifest.from_dict({**data, "tables": [_table("a", cursor={"column": "id", "source_type": None,
                                                                     "after": None, "watermark": None})]})  # fmt: skip


def test_link_keeps_the_watermarks_of_tables_this_delta_did_not_deliver():
    cursor = {"column": "id", "source_type": "integer", "after": "1", "watermark": "9", "null_rows": 0}
    m = Manifest.from_dict({**BASE, "tables": [_table("a", cursor=cursor), _table("b", "failed", cursor=cursor)]})
    prev = ManifestPrevious(
        manifest_sha256="cd" * 32,
        watermarks={
            "s.a": ManifestWatermark("id", "1"),
            "s.b": ManifestWatermark("id", "1"),
            "s.c": ManifestWatermark("ts", "x"),
        },
    )
    linked = link_manifest(m, prev)
    assert linked.format_version == FORMAT_VERSION == 2
    assert {k: w.value for k, w in (linked.watermarks or {}).items()} == {"s.a": "9", "s.b": "1", "s.c": "x"}
    assert link_manifest(m, None).format_version == 1 and link_manifest(m, None).previous is None
    plain = Manifest.from_dict({**BASE, "tables": [_table("a")]})
    assert link_manifest(plain, None) is plain  # no cursor: nothing added, the manifest as before
