"""Verification of an export directory against its manifest (``adu verify``).

Everything is recomputed from the files: the SHA-256 of every file, and what the sink
that wrote them finds inside each one (:meth:`adu_core.plugin.components.Sink.check_file`,
looked up by the manifest's ``sink``: for Parquet, the row count and schema in the
footer), so another file format plugs in without a change here. Missing files, unexpected files
(anything not in the manifest except ``manifest.json`` and ``manifest.sig``: hidden
files, staging leftovers, symbolic links and empty files included), a manifest edited
after it was written (its checksum), and a bad or missing signature (when a public key
is given) are all reported, each naming the file.

Hashing runs on a thread pool (``hashlib`` releases the GIL on large updates), reading
each file in large chunks into a reused buffer, so verification is bound by the disk
or by SHA-256 on every core, and memory stays flat whatever the file sizes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import attrs

from adu_core.errors import UsageError
from adu_core.lazy import lazy_module
from adu_core.manifest.canonical import CHECKSUM_KEY, checksum
from adu_core.manifest.fields import ManifestError
from adu_core.manifest.io import parse_manifest, read_manifest_bytes
from adu_core.manifest.model import FORMAT_VERSION, MANIFEST_NAME, SIGNATURE_NAME, Manifest, ManifestFile, ManifestTable

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from adu_core import signing
    from adu_core.plugin.components import FileCheck, Sink
    from adu_core.plugin.manager import Plugins
else:  # cryptography (~0.1 s of imports) only when a signature is checked
    signing = lazy_module("adu_core.signing")

CHUNK = 4 * 1024 * 1024


def sha256_file(path: str | os.PathLike[str], *, fsync: bool = False) -> tuple[str, int]:
    """``(sha256 hex, size)`` of a file, streamed in :data:`CHUNK`-byte reads.

    :param fsync: also flush the file to stable storage (writers use this before they
        report a file as done).
    """
    h = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        # no bigger than the file: a fresh 4 MiB buffer costs more than hashing a small file
        buf = bytearray(min(CHUNK, os.fstat(fd).st_size + 1))
        view = memoryview(buf)
        while True:
            n = os.readv(fd, [buf]) if hasattr(os, "readv") else _read_into(fd, buf)
            if n == 0:
                break
            h.update(view[:n])
            size += n
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return h.hexdigest(), size


def _read_into(fd: int, buf: bytearray) -> int:  # pragma: no cover - platforms without readv
    data = os.read(fd, len(buf))
    buf[: len(data)] = data
    return len(data)


# ------------------------------------------------------------------------------ reports


@attrs.define
class TableReport:
    """The verdict on one table of the manifest."""

    schema: str
    name: str
    rows: int = 0
    files: int = 0
    bytes: int = 0
    problems: list[str] = attrs.field(factory=list)
    #: the row count the manifest states for the table
    manifest_rows: int | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.qualified_name}: {self.files} file(s), {self.rows:,} rows"
        return f"FAIL  {self.qualified_name}: " + "; ".join(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "ok": self.ok,
            "rows": self.rows,
            "files": self.files,
            "bytes": self.bytes,
            "manifest_rows": self.manifest_rows,
            "problems": list(self.problems),
        }


@attrs.define
class VerifyReport:
    """The verdict on a whole export directory.

    :param is_export: False when the directory holds no ADU export (exit code 2).
    :param signature: ``valid``, ``invalid``, ``missing`` (a key was given, no
        signature), ``not checked`` (signed, no key given) or ``unsigned``.
    """

    directory: str
    is_export: bool = True
    tables: list[TableReport] = attrs.field(factory=list)
    problems: list[str] = attrs.field(factory=list)
    signature: str = "unsigned"
    signature_message: str = ""
    files_checked: int = 0
    bytes_hashed: int = 0
    job_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.is_export and not self.problems and all(t.ok for t in self.tables)

    @property
    def exit_code(self) -> int:
        """0: everything matches; 1: a mismatch; 2: not an export."""
        if not self.is_export:
            return 2
        return 0 if self.ok else 1

    def lines(self) -> list[str]:
        """What ``adu verify`` prints: one line per table, then the export's own lines."""
        if not self.is_export:
            return [f"not an export: {p}" for p in self.problems]
        out = [t.line() for t in self.tables]
        out += [f"FAIL  export: {p}" for p in self.problems]
        if self.signature_message:
            out.append(f"signature: {self.signature_message}")
        rows = sum(t.rows for t in self.tables)
        verdict = "OK" if self.ok else "MISMATCH"
        bad = sum(not t.ok for t in self.tables) + len(self.problems)
        out.append(
            f"{verdict}: {len(self.tables)} table(s), {self.files_checked} file(s), {rows:,} rows, "
            f"{self.bytes_hashed:,} bytes hashed" + ("" if self.ok else f"; {bad} problem line(s)")
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "is_export": self.is_export,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "job_id": self.job_id,
            "signature": self.signature,
            "signature_message": self.signature_message,
            "files_checked": self.files_checked,
            "bytes_hashed": self.bytes_hashed,
            "problems": list(self.problems),
            "tables": [t.to_dict() for t in self.tables],
        }


# ----------------------------------------------------------------------------- checking


@attrs.define
class _Expected:
    file: ManifestFile
    table: TableReport
    entry: ManifestTable
    quarantine: bool


@attrs.define
class _Found:
    sha256: str | None = None
    size: int = 0
    error: str | None = None
    check: FileCheck | None = None


def _inspect_file(path: Path, e: _Expected, sink: type[Sink] | None) -> _Found:
    found = _Found()
    try:
        found.sha256, found.size = sha256_file(path)
    except OSError as exc:
        found.error = f"cannot be read ({exc.strerror})"
        return found
    if sink is not None:
        found.check = sink.check_file(path, e.entry, quarantine=e.quarantine)
    return found


def _as_key(public_key: Ed25519PublicKey | str | os.PathLike[str] | None) -> Ed25519PublicKey | None:
    if public_key is None or not isinstance(public_key, (str, os.PathLike)):
        return public_key
    return signing.load_public_key(public_key)


def verify_export(
    directory: str | os.PathLike[str],
    public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
    workers: int | None = None,
    *,
    plugins: Plugins | None = None,
) -> VerifyReport:
    """Check the export in ``directory`` against its manifest.

    :param public_key: an Ed25519 public key (or the path of its PEM file): when given,
        the signature must be present and valid.
    :param workers: threads hashing files at once (default: the number of CPUs, at least 2).
    :param plugins: where to find the sink that checks the files (default: the process's).
    :raises adu_core.errors.UsageError: when ``public_key`` is a path to something that is
        not an Ed25519 public key.
    """
    key = _as_key(public_key)
    root = Path(directory)
    report = VerifyReport(directory=os.fspath(directory))
    if not root.is_dir():
        report.is_export = False
        report.problems.append(f"{os.fspath(directory)} is not a directory")
        return report
    try:
        _path, raw = read_manifest_bytes(root)
    except ManifestError:
        report.is_export = False
        report.problems.append(f"{os.fspath(directory)} holds no {MANIFEST_NAME}")
        return report
    try:
        data = parse_manifest(raw)
    except ManifestError as exc:
        if exc.reason == "format":
            report.is_export = False
            report.problems.append(f"{MANIFEST_NAME} is not an ADU export manifest")
            return report
        report.problems.append(f"{MANIFEST_NAME} is {exc}")
        _check_signature(report, root, raw, key)
        return report
    report.job_id = str(data["job_id"]) if data.get("job_id") is not None else None
    if CHECKSUM_KEY not in data:
        report.problems.append(f"{MANIFEST_NAME} has no checksum")
    elif data[CHECKSUM_KEY] != checksum(data):
        report.problems.append(f"{MANIFEST_NAME} was edited after it was written (checksum mismatch)")
    _check_signature(report, root, raw, key)
    try:
        manifest = Manifest.from_dict(data)
    except ManifestError as exc:
        if exc.reason == "version":
            version = data.get("format_version")
            report.problems.append(
                f"{MANIFEST_NAME} has format version {version!r}; this ADU reads up to {FORMAT_VERSION}"
            )
        else:
            report.problems.append(f"{MANIFEST_NAME}: {exc}")
        return report
    expected = _expected_files(manifest.tables, report)
    present = _walk(root, report, expected)
    _check_files(root, expected, present, report, workers, _sink_class(manifest, report, plugins))
    return report


def _sink_class(manifest: Manifest, report: VerifyReport, plugins: Plugins | None) -> type[Sink] | None:
    """The sink that wrote the export (it checks the files); None, with a problem, when it
    is not installed here."""
    from adu_core.plugin.manager import get_plugins

    try:
        return (plugins or get_plugins()).sink_class(manifest.sink)
    except UsageError as exc:
        report.problems.append(
            f"{exc}: the files were checked by SHA-256 only (install the plugin of the {manifest.sink!r} sink "
            "to check their content)"
        )
        return None


def _check_signature(report: VerifyReport, root: Path, raw: bytes, key: Ed25519PublicKey | None) -> None:
    sig_path = root / SIGNATURE_NAME
    has_sig = sig_path.is_file() and not sig_path.is_symlink()
    if key is None:
        if has_sig:
            report.signature = "not checked"
            report.signature_message = f"{SIGNATURE_NAME} present, not checked (give a public key to check it)"
        else:
            report.signature = "unsigned"
            report.signature_message = "unsigned export (integrity checked by SHA-256 only)"
        return
    if not has_sig:
        report.signature = "missing"
        report.signature_message = f"{SIGNATURE_NAME} is missing (a signed export was expected)"
        report.problems.append(report.signature_message)
        return
    valid, message = signing.check(raw, sig_path.read_bytes(), key)
    report.signature = "valid" if valid else "invalid"
    report.signature_message = message
    if not valid:
        report.problems.append(message)


def _expected_files(tables: Sequence[ManifestTable], report: VerifyReport) -> dict[str, _Expected]:
    expected: dict[str, _Expected] = {}
    for entry in tables:
        t = TableReport(schema=entry.schema, name=entry.name, manifest_rows=entry.rows)
        report.tables.append(t)
        if not entry.succeeded:
            t.problems.append(f"not exported: the table {entry.status}" + (f" ({entry.error})" if entry.error else ""))
        for files, quarantine in ((entry.files, False), (entry.quarantine_files, True)):
            for f in files:
                if f.path in expected:
                    t.problems.append(f"{f.path}: listed twice in the manifest")
                    continue
                expected[f.path] = _Expected(file=f, table=t, entry=entry, quarantine=quarantine)
                if not quarantine:
                    t.files += 1
    return expected


def _walk(root: Path, report: VerifyReport, expected: Mapping[str, _Expected]) -> set[str]:
    """Relative paths of the regular files present; report everything unexpected."""
    present: set[str] = set()
    table_dirs: dict[str, TableReport] = {}
    for e in expected.values():
        table_dirs.setdefault(str(PurePosixPath(e.file.path).parent), e.table)

    def unexpected(rel: str, what: str) -> None:
        owner = table_dirs.get(str(PurePosixPath(rel).parent))
        message = f"{rel}: {what}"
        if owner is not None:
            owner.problems.append(message)
        else:
            report.problems.append(message)

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "?"
        report.problems.append(f"{where}: cannot be listed ({exc.strerror}); its files cannot be checked")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        base = Path(dirpath)
        for d in list(dirnames):
            if (base / d).is_symlink():
                dirnames.remove(d)
                unexpected((base / d).relative_to(root).as_posix(), "unexpected symbolic link")
        dirnames.sort()
        for name in sorted(filenames):
            full = base / name
            rel = full.relative_to(root).as_posix()
            if rel in (MANIFEST_NAME, SIGNATURE_NAME):
                continue
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                unexpected(rel, "symbolic link instead of a file" if rel in expected else "unexpected symbolic link")
            elif not stat.S_ISREG(mode):
                unexpected(rel, "unexpected special file")
            elif rel not in expected:
                unexpected(rel, "unexpected file (not in the manifest)")
            else:
                present.add(rel)
    return present


def _check_files(
    root: Path,
    expected: Mapping[str, _Expected],
    present: set[str],
    report: VerifyReport,
    workers: int | None,
    sink: type[Sink] | None,
) -> None:
    todo = []
    for path, e in expected.items():
        if path in present:
            todo.append(e)
        elif not (root / path).is_symlink():
            e.table.problems.append(f"{path}: missing")
    todo.sort(key=lambda e: -e.file.bytes)  # big files first
    n = workers or max(2, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=n, thread_name_prefix="adu-verify") as pool:
        results = list(pool.map(lambda e: _inspect_file(root / e.file.path, e, sink), todo))
    for e, found in zip(todo, results, strict=True):
        _judge(e, found, report)
    # each table's row count (manifest) against the rows found in its files
    for t in report.tables:
        if t.manifest_rows is not None and not t.problems and t.rows != t.manifest_rows:
            t.problems.append(f"{t.rows:,} rows in its files, the manifest says {t.manifest_rows:,}")


def check_entries(
    directory: str | os.PathLike[str],
    entries: Sequence[ManifestTable | Mapping[str, Any]],
    workers: int | None = None,
    *,
    sink: type[Sink] | None = None,
) -> dict[tuple[str, str], list[str]]:
    """Check the files of the manifest table ``entries`` in ``directory`` as :func:`verify_export`
    does (present, SHA-256, size and, through ``sink``, rows and schema), without looking
    for unexpected files.

    Returns the problems of each ``(schema, name)`` whose files do not check (a retry
    exports those tables again instead of keeping them).
    """
    root = Path(directory)
    report = VerifyReport(directory=os.fspath(directory))
    tables = [e if isinstance(e, ManifestTable) else ManifestTable.from_dict(e, "a recorded table") for e in entries]
    expected = _expected_files(tables, report)
    present = {p for p in expected if (root / p).is_file() and not (root / p).is_symlink()}
    _check_files(root, expected, present, report, workers, sink)
    return {(t.schema, t.name): list(t.problems) for t in report.tables if t.problems}


def _judge(e: _Expected, found: _Found, report: VerifyReport) -> None:
    """What one file's hash and the sink's look inside it say, into its table's report."""
    report.files_checked += 1
    report.bytes_hashed += found.size
    t, f = e.table, e.file
    if found.sha256 is None:
        t.problems.append(f"{f.path}: {found.error}")
        return
    if found.sha256 != f.sha256:
        t.problems.append(f"{f.path}: SHA-256 differs from the manifest (the file was altered)")
    if found.size != f.bytes:
        t.problems.append(f"{f.path}: {found.size:,} bytes, the manifest says {f.bytes}")
    check = found.check
    rows = f.rows  # a sink that cannot count rows: the hash vouches for the manifest's count
    if check is not None:
        t.problems.extend(f"{f.path}: {p}" for p in check.problems)
        if check.problems and check.rows is None:
            return
        if check.rows is not None:
            rows = check.rows
            if check.rows != f.rows:
                t.problems.append(f"{f.path}: {check.rows:,} rows in {check.rows_from}, the manifest says {f.rows}")
    if not e.quarantine:
        t.rows += rows
        t.bytes += found.size
