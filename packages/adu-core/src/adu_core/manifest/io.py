"""Reading and writing ``manifest.json`` (and ``manifest.sig``): the one loader and the one
writer every part of ADU uses (the sink, verify, inspect, the web, notebooks).

The loader turns every way a manifest can be unusable into one :class:`ManifestError`
(a :class:`~adu_core.errors.UsageError`) naming the file and the problem: no file, not
JSON, not an ADU manifest, a version newer than this ADU reads, a missing or mistyped
field. The writer seals the manifest (checksum), signs it when given a key, and writes
both files atomically (temporary file, fsync, rename, fsync of the folder), the
signature first so a reader never sees a new manifest next to an old signature.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adu_core.manifest.canonical import sealed_json
from adu_core.manifest.fields import ManifestError
from adu_core.manifest.model import MANIFEST_NAME, SIGNATURE_NAME, Manifest

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def manifest_path(path: str | os.PathLike[str]) -> Path:
    """``DIR/manifest.json`` for an export directory; ``path`` itself for a file."""
    p = Path(path)
    return p / MANIFEST_NAME if p.is_dir() or not p.name.endswith(".json") else p


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """The JSON object of a manifest's bytes (no field checked yet).

    :raises ManifestError: ``json`` when the bytes are not a JSON document, ``format``
        when they are not an ADU manifest.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"damaged: not valid JSON ({exc})", reason="json") from None
    if not isinstance(data, dict) or data.get("format") != "adu-manifest":
        raise ManifestError("not an ADU export manifest", reason="format")
    return data


def read_manifest_bytes(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> tuple[Path, bytes]:
    """``(manifest.json path, its bytes)`` of an export directory (or a manifest file).

    :raises ManifestError: ``missing`` when there is no manifest (or it is a symbolic
        link, never followed), or ``field`` when it is bigger than ``max_bytes``.
    """
    file = manifest_path(path)
    if not file.is_file() or file.is_symlink():
        where = Path(path)
        what = f"{where} is not an export (no {MANIFEST_NAME})" if where != file else f"{file} does not exist"
        raise ManifestError(what, reason="missing")
    try:
        if max_bytes is not None and file.stat().st_size > max_bytes:
            raise ManifestError(f"{file}: larger than {max_bytes:,} bytes", reason="field")
        return file, file.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{file}: cannot be read ({exc.strerror})", reason="missing") from None


def load_manifest(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Manifest:
    """The typed manifest of the export in ``path`` (a directory or its manifest.json).

    :raises ManifestError: in one line naming the file and the problem (see
        :class:`ManifestError` for the reasons).
    """
    file, raw = read_manifest_bytes(path, max_bytes=max_bytes)
    try:
        return Manifest.from_dict(parse_manifest(raw))
    except ManifestError as exc:
        raise exc.located(str(file)) from None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, tmp_dir: Path, *, before_rename: Callable[[], None] | None = None) -> None:
    """Write ``data`` to ``path`` via a temporary file in ``tmp_dir`` (same file system):
    fsync, (``before_rename()``), rename, fsync the folder."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{path.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if before_rename is not None:
        before_rename()
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_manifest(
    directory: str | os.PathLike[str],
    manifest: Manifest | Mapping[str, Any],
    *,
    sign_key: Ed25519PrivateKey | None = None,
    tmp_dir: str | os.PathLike[str] | None = None,
    before_publish: Callable[[], None] | None = None,
) -> Path:
    """Seal ``manifest`` and write it as ``DIR/manifest.json`` (and ``manifest.sig``, signed
    by ``sign_key``; without a key a stale signature is removed). Returns the manifest's
    path.

    :param tmp_dir: where temporary files go (default: ``DIR``), on the same file system.
    :param before_publish: called once the manifest's temporary file is on disk, before it
        is renamed into place: the caller's own flushes (of what the manifest describes),
        run meanwhile, are waited for there, so the manifest never names what is not durable.
    """
    root = Path(directory)
    typed = manifest if isinstance(manifest, Manifest) else Manifest.from_dict(manifest)  # only valid ones
    data = sealed_json(typed)
    tmp = Path(tmp_dir) if tmp_dir is not None else root
    sig_path = root / SIGNATURE_NAME
    if sign_key is not None:
        from adu_core import signing  # cryptography: only to sign

        write_atomic(sig_path, signing.sign(data, sign_key, signed_file=MANIFEST_NAME), tmp)
    elif sig_path.exists():
        sig_path.unlink()  # a stale signature of an earlier manifest
    path = root / MANIFEST_NAME
    write_atomic(path, data, tmp, before_rename=before_publish)
    return path


def manifest_job_id(path: Path) -> str | None:
    """The ``job_id`` the manifest in directory ``path`` names (None: no readable one)."""
    try:
        raw = (Path(path) / MANIFEST_NAME).read_bytes()[: 64 * 1024 * 1024]
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    job_id = data.get("job_id") if isinstance(data, dict) else None
    return job_id if isinstance(job_id, str) and job_id.isalnum() else None
