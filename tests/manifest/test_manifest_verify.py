"""verify_export: every kind of tampering is caught and named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core import signing
from adu_core.manifest import canonical_json, seal
from adu_core.verify import VerifyReport, sha256_file, verify_export
from adu_export_kit import export_tables, int_table, make_batches
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

A_FILE = "public/items/part-00001.parquet"


@pytest.fixture
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    priv, pub, _ = signing.write_key_pair(d / "k")
    return priv, pub


@pytest.fixture
def export(tmp_path, keys) -> Path:
    items, other = int_table("public", "items"), int_table("Other Schema", "T")
    target = tmp_path / "export"
    export_tables(
        target,
        [
            (items, [make_batches(items, 3000), make_batches(items, 2000, start=3000)]),
            (other, [make_batches(other, 50)]),
        ],
        sign_key=str(keys[0]),
    )
    return target


def _problems(report: VerifyReport) -> list[str]:
    return report.problems + [p for t in report.tables for p in t.problems]


def _table(report: VerifyReport, name: str):
    return next(t for t in report.tables if t.qualified_name == name)


def _rewrite_manifest(target: Path, edit, *, reseal: bool = True) -> None:
    m = json.loads((target / "manifest.json").read_bytes())
    edit(m)
    (target / "manifest.json").write_bytes(canonical_json(seal(m) if reseal else m))


def test_an_untouched_export_verifies(export, keys) -> None:
    report = verify_export(export, public_key=keys[1])
    assert report.ok and report.exit_code == 0, report.lines()
    assert report.signature == "valid"
    assert report.files_checked == 3
    assert [t.line().split()[0] for t in report.tables] == ["ok", "ok"]
    assert _table(report, "public.items").rows == 5000
    assert report.bytes_hashed == sum(p.stat().st_size for p in export.rglob("*.parquet"))


def test_without_a_key_a_signed_export_is_ok_but_not_checked(export) -> None:
    report = verify_export(export)
    assert report.ok and report.signature == "not checked"


@pytest.mark.parametrize("where", ["middle", "footer", "first"])
def test_flipped_byte_is_caught(export, where: str) -> None:
    path = export / A_FILE
    data = bytearray(path.read_bytes())
    pos = {"middle": len(data) // 2, "footer": len(data) - 20, "first": 0}[where]
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_export(export)
    assert report.exit_code == 1
    items = _table(report, "public.items")
    assert not items.ok and _table(report, "Other Schema.T").ok
    assert any(p.startswith(f"{A_FILE}: SHA-256 differs") for p in items.problems), items.problems
    assert A_FILE in items.line()


def test_deleted_file_is_caught(export) -> None:
    (export / A_FILE).unlink()
    report = verify_export(export)
    assert report.exit_code == 1
    assert f"{A_FILE}: missing" in _table(report, "public.items").problems


@pytest.mark.parametrize(
    "extra",
    [
        "public/items/part-00099.parquet",  # looks like data
        "public/items/.hidden",
        "stray.txt",
        "public/new_table/part-00000.parquet",
        ".adu-staging/old/p00000.parquet",
        "manifest.json.bak",
    ],
)
def test_added_file_is_caught(export, extra: str) -> None:
    path = export / extra
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((export / A_FILE).read_bytes() if extra.endswith(".parquet") else b"x")
    report = verify_export(export)
    assert report.exit_code == 1
    assert any(p.startswith(f"{extra}: unexpected file") for p in _problems(report)), _problems(report)


def test_added_empty_file_and_symlink_are_caught(export, tmp_path) -> None:
    (export / "public/items/empty").touch()
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"PAR1")
    os.symlink(outside, export / "public/link.parquet")
    report = verify_export(export)
    problems = _problems(report)
    assert any(p.startswith("public/items/empty: unexpected file") for p in problems)
    assert any(p.startswith("public/link.parquet: unexpected symbolic link") for p in problems)


def test_file_replaced_by_a_symlink_is_caught(export, tmp_path) -> None:
    copy = tmp_path / "copy.parquet"
    copy.write_bytes((export / A_FILE).read_bytes())
    (export / A_FILE).unlink()
    os.symlink(copy, export / A_FILE)
    report = verify_export(export)
    assert any("symbolic link instead of a file" in p for p in _problems(report))
    assert report.exit_code == 1


def test_edited_count_is_caught_by_checksum_and_footer(export) -> None:
    _rewrite_manifest(export, lambda m: m["tables"][1]["files"][0].update(rows=2999), reseal=False)
    report = verify_export(export)
    assert "manifest.json was edited after it was written (checksum mismatch)" in report.problems
    items = _table(report, "public.items")
    assert any("3,000 rows in its footer, the manifest says 2999" in p for p in items.problems), items.problems


def test_edited_table_count_even_resealed_is_caught(export) -> None:
    _rewrite_manifest(export, lambda m: m["tables"][1].update(rows=5001))
    report = verify_export(export)
    assert "5,000 rows in its files, the manifest says 5,001" in _table(report, "public.items").problems


def test_manifest_edited_after_signing_is_caught(export, keys) -> None:
    # a careful forger updates the checksum too: only the signature can tell
    _rewrite_manifest(export, lambda m: m["source"].update(server_version="16.0"))
    assert verify_export(export).ok  # without the key nothing is wrong...
    report = verify_export(export, public_key=keys[1])
    assert report.exit_code == 1 and report.signature == "invalid"
    assert any("altered after signing" in p for p in report.problems)


def test_missing_signature_with_a_key_is_caught(export, keys) -> None:
    (export / "manifest.sig").unlink()
    report = verify_export(export, public_key=keys[1])
    assert report.signature == "missing" and report.exit_code == 1
    assert any("manifest.sig is missing" in p for p in report.problems)


def test_signature_by_another_key_is_caught(export, tmp_path) -> None:
    _priv, other_pub, _ = signing.write_key_pair(tmp_path / "other")
    report = verify_export(export, public_key=other_pub)
    assert report.signature == "invalid" and report.exit_code == 1


def test_swapped_file_with_consistent_manifest_is_caught_by_schema(export) -> None:
    """Replace a file by one with another schema and fix sha, bytes and checksum."""
    path = export / A_FILE
    pq.write_table(
        pa.table(
            {"id": pa.array(range(2000), pa.int64()), "label": pa.array(["x"] * 2000), "price": pa.array([1.0] * 2000)}
        ),
        path,
    )
    digest, size = sha256_file(path)

    def edit(m):
        m["tables"][1]["files"][1].update(sha256=digest, bytes=size)

    _rewrite_manifest(export, edit)
    report = verify_export(export)
    problems = _table(report, "public.items").problems
    assert any(p.startswith(f"{A_FILE}: schema differs from the manifest") for p in problems), problems


def test_truncated_file_is_caught(export) -> None:
    path = export / A_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    problems = _table(verify_export(export), "public.items").problems
    assert any("SHA-256 differs" in p for p in problems)
    assert any("bytes, the manifest says" in p for p in problems)
    assert any("not a readable Parquet file" in p for p in problems)


def test_damaged_manifest_is_a_mismatch(export) -> None:
    (export / "manifest.json").write_bytes(b'{"format": "adu-manifest", ')
    report = verify_export(export)
    assert report.exit_code == 1 and "not valid JSON" in report.problems[0]


def test_unsafe_paths_in_the_manifest_are_refused(export, tmp_path) -> None:
    (tmp_path / "secret").write_text("x")
    _rewrite_manifest(export, lambda m: m["tables"][0]["files"][0].update(path="../secret"))
    report = verify_export(export)
    assert any("unsafe or invalid file path" in p for p in _problems(report))
    assert report.exit_code == 1


def test_failed_table_in_manifest_is_reported(export) -> None:
    _rewrite_manifest(export, lambda m: m["tables"][0].update(status="failed", error="connection lost"))
    report = verify_export(export)
    assert any("not exported: the table failed (connection lost)" in p for p in _problems(report))


@pytest.mark.parametrize("case", ["missing", "empty", "file", "other-json", "no-manifest"])
def test_not_an_export(tmp_path, case: str) -> None:
    target = tmp_path / "d"
    if case != "missing":
        target.mkdir()
    if case == "file":
        target.rmdir()
        target.write_text("x")
    if case == "other-json":
        (target / "manifest.json").write_text('{"name": "some other tool"}')
    if case == "no-manifest":
        (target / "public").mkdir()
        (target / "public/x.parquet").write_bytes(b"PAR1")
    report = verify_export(target)
    assert report.exit_code == 2 and not report.is_export
    assert report.lines()[0].startswith("not an export")


def test_report_as_json(export) -> None:
    (export / A_FILE).unlink()
    d = verify_export(export).to_dict()
    json.dumps(d)
    assert d["exit_code"] == 1 and d["ok"] is False
    assert any(f"{A_FILE}: missing" in p for t in d["tables"] for p in t["problems"])


def test_many_files_hashed_on_several_threads(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 40_000)])], options={"row_group_size": 1000, "max_file_bytes": 8000})
    for workers in (1, 4):
        report = verify_export(target, workers=workers)
        assert report.ok and report.files_checked > 10


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=12,
)
_file = st.fixed_dictionaries(
    {},
    optional={
        "path": _json | st.sampled_from(["a/b.parquet", "../x", "/etc/passwd"]),
        "rows": _json,
        "bytes": _json,
        "sha256": _json,
    },
)
_entry = st.fixed_dictionaries(
    {},
    optional={
        "schema": _json,
        "name": _json,
        "rows": _json,
        "status": _json,
        "error": _json,
        "files": st.lists(_file, max_size=3) | _json,
        "columns": _json,
        "validation": st.fixed_dictionaries({}, optional={"quarantine_files": st.lists(_file, max_size=2) | _json}),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables=st.lists(_entry, max_size=3) | _json, extra=st.dictionaries(st.text(max_size=5), _json, max_size=3))
def test_hostile_manifests_never_crash_verify(tmp_path_factory, tables, extra) -> None:
    target = tmp_path_factory.mktemp("hostile")
    (target / "a").mkdir()
    (target / "a" / "b.parquet").write_bytes(b"PAR1 not really")
    m = {**extra, "format": "adu-manifest", "format_version": 1, "tables": tables}
    (target / "manifest.json").write_bytes(canonical_json(seal(m)))
    report = verify_export(target)
    assert report.exit_code in (0, 1)
    assert report.lines()
    json.dumps(report.to_dict())


_AS_ANOTHER_USER = """
import json, sys
from adu_core.verify import verify_export
report = verify_export(sys.argv[1])
print(json.dumps({"problems": report.problems, "exit_code": report.exit_code}))
"""


def _verify_unprivileged(export: Path) -> dict:
    """verify_export as an unprivileged user (root lists every directory, whatever its mode)."""
    import pwd
    import shutil
    import subprocess
    import sys
    import tempfile

    user = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="adu-verify-", dir="/tmp"))
    try:
        base.chmod(0o755)
        copy = base / "export"
        shutil.copytree(export, copy)
        for p in [copy, *copy.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        (copy / "public" / "sneaky").chmod(0)
        res = subprocess.run(
            [sys.executable, "-c", _AS_ANOTHER_USER, str(copy)],
            capture_output=True,
            text=True,
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            cwd="/tmp",
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)
    finally:
        (base / "export" / "public" / "sneaky").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_unlistable_directory_is_reported(export) -> None:
    hidden = export / "public" / "sneaky"
    hidden.mkdir()
    (hidden / "x.parquet").write_bytes(b"x")
    if os.geteuid() == 0:  # CI runs as root, who reads every directory: check as another user
        found = _verify_unprivileged(export)
    else:
        hidden.chmod(0)
        try:
            report = verify_export(export)
        finally:
            hidden.chmod(0o755)
        found = {"problems": report.problems, "exit_code": report.exit_code}
    assert any(p.startswith("public/sneaky: cannot be listed") for p in found["problems"]), found
    assert found["exit_code"] == 1


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 4321])
def test_sha256_file_matches_hashlib_whatever_the_size(tmp_path, monkeypatch, size):
    import hashlib

    from adu_core import verify

    monkeypatch.setattr(verify, "CHUNK", 1000)  # several reads, and reads that end exactly on a chunk
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert verify.sha256_file(path) == (hashlib.sha256(data).hexdigest(), size)
