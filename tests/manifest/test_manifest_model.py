"""The typed manifest: lossless round trips, one clear error per unusable manifest, room
for optional sections of later versions, and a writer that writes only valid manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adu_core.errors import UsageError
from adu_core.manifest import (
    FORMAT_VERSION,
    Manifest,
    ManifestError,
    canonical_json,
    checksum,
    load_manifest,
    seal,
    write_manifest,
)
from adu_core.verify import verify_export
from adu_export_kit import export_tables, int_table, make_batches


@pytest.fixture
def export(tmp_path: Path) -> Path:
    t = int_table("Sales", "Orders")
    target = tmp_path / "export"
    export_tables(target, [(t, [make_batches(t, 20), make_batches(t, 5, start=20)])])
    return target


def _edit(target: Path, edit) -> None:
    m = json.loads((target / "manifest.json").read_bytes())
    edit(m)
    (target / "manifest.json").write_bytes(canonical_json(seal(m)))


def test_a_written_manifest_round_trips_byte_for_byte(export: Path) -> None:
    raw = (export / "manifest.json").read_bytes()
    m = load_manifest(export)
    assert canonical_json(m) == raw  # same canonical JSON, so the same checksum and signature
    assert m.is_sealed() and m.checksum == checksum(json.loads(raw))
    (table,) = m.tables
    assert (table.qualified_name, table.rows, len(table.files)) == ("Sales.Orders", 25, 2)
    assert [c.name for c in table.columns] == ["id", "label", "price"] and table.columns[0].nullable is False
    assert m.table("sales.orders") is table  # case folded when unambiguous
    with pytest.raises(UsageError, match=r"no table 'x\.y' in this export \(tables: Sales\.Orders\)"):
        m.table("x.y")


def test_optional_sections_of_a_later_version_are_kept(export: Path) -> None:
    """A newer ADU may add sections an older one ignores: kept as they are, still sealed,
    still verified."""

    def add(m):
        m["far_side"] = {"profile": "x", "loads": {"Sales.Orders": "2026-01-01"}}
        m["tables"][0]["load_types"] = {"column": "id", "watermark": 24}
        m["tables"][0]["files"][0]["encoding"] = "x"

    _edit(export, add)
    m = load_manifest(export)
    assert m.extra["far_side"]["loads"] == {"Sales.Orders": "2026-01-01"}
    assert m.tables[0].extra == {"load_types": {"column": "id", "watermark": 24}}
    assert canonical_json(m) == (export / "manifest.json").read_bytes()
    assert verify_export(export).ok


def _case(name: str, target: Path) -> None:
    path = target / "manifest.json"
    if name == "missing":
        path.unlink()
    elif name == "json":
        path.write_bytes(b'{"format": "adu-manifest", ')
    elif name == "format":
        path.write_text('{"format": "something else", "tables": []}')
    elif name == "version":
        _edit(target, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    elif name == "field":
        _edit(target, lambda m: m["tables"][0].pop("rows"))
    elif name == "type":
        _edit(target, lambda m: m["tables"][0]["files"][1].update(rows="25"))
    elif name == "path":
        _edit(target, lambda m: m["tables"][0]["files"][0].update(path="../../etc/passwd"))


@pytest.mark.parametrize(
    ("case", "reason", "message"),
    [
        ("missing", "missing", "is not an export (no manifest.json)"),
        ("json", "json", "manifest.json: damaged: not valid JSON"),
        ("format", "format", "manifest.json: not an ADU export manifest"),
        ("version", "version", "manifest.json: format version 3 is newer than this ADU reads (up to 2); upgrade ADU"),
        ("field", "field", "manifest.json: tables[0].rows: missing"),
        ("type", "field", "manifest.json: tables[0].files[1].rows: expected an integer, got '25'"),
        ("path", "field", "tables[0].files[0].path: unsafe or invalid file path in the manifest: '../../etc/passwd'"),
    ],
)
def test_one_clear_error_per_unusable_manifest(export: Path, case: str, reason: str, message: str) -> None:
    _case(case, export)
    with pytest.raises(ManifestError) as caught:
        load_manifest(export)
    err = caught.value
    assert isinstance(err, UsageError) and err.reason == reason
    text = str(err)
    assert message in text and "\n" not in text, text
    assert text.startswith(str(export)), text  # names the file


@pytest.mark.parametrize(("case", "exit_code"), [("version", 1), ("field", 1), ("type", 1), ("format", 2)])
def test_verify_reports_what_the_loader_refuses(export: Path, case: str, exit_code: int) -> None:
    _case(case, export)
    report = verify_export(export)
    assert report.exit_code == exit_code, report.lines()
    assert report.lines()


def test_the_writer_writes_only_valid_manifests(export: Path, tmp_path: Path) -> None:
    m = load_manifest(export)
    out = tmp_path / "again"
    out.mkdir()
    path = write_manifest(out, m)
    assert path.read_bytes() == (export / "manifest.json").read_bytes()
    broken = {k: v for k, v in m.to_dict().items() if k != "sink"}
    with pytest.raises(ManifestError, match="sink: missing"):
        write_manifest(tmp_path / "never", broken)
    assert not (tmp_path / "never").exists()


def test_from_dict_refuses_what_is_not_a_manifest() -> None:
    for data in (None, [], {"format": "adu-manifest", "format_version": True}):
        with pytest.raises(ManifestError):
            Manifest.from_dict(data)
