"""Exports on the far side: verify one, open its tables.

A minimal version (verification through :func:`adu_core.verify.verify_export`, tables
as pyarrow datasets); the export-reading work of issue 12 replaces it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adu_core.errors import JobFailed, UsageError

if TYPE_CHECKING:
    import pyarrow.dataset as ds

    from adu_core.verify import VerifyReport


def verify_export(path: str | os.PathLike[str], public_key: str | os.PathLike[str] | None = None) -> VerifyReport:
    """Check every file of the export in ``path`` against its manifest (and the
    signature, when ``public_key`` is given); the report says what differs."""
    from adu_core.verify import verify_export as verify

    return verify(path, public_key=public_key)


def open_export(
    path: str | os.PathLike[str], public_key: str | os.PathLike[str] | None = None
) -> dict[str, ds.Dataset]:
    """Verify the export in ``path``, then give each table (``schema.table``) as a
    pyarrow dataset over its Parquet files.

    :raises JobFailed: the export does not verify (nothing is opened).
    """
    import pyarrow.dataset as pads

    from adu_core.verify import MANIFEST_NAME, safe_relpath

    report = verify_export(path, public_key)
    if not report.ok:
        bad = [line for line in report.lines() if not line.startswith(("ok", "signature: valid"))]
        raise JobFailed(f"{path} does not verify: {'; '.join(bad[:3])}")
    root = Path(path)
    manifest: dict[str, Any] = json.loads((root / MANIFEST_NAME).read_bytes())
    out: dict[str, ds.Dataset] = {}
    for table in manifest.get("tables") or []:
        files = []
        for f in table.get("files") or []:
            rel = safe_relpath(f.get("path"))
            if rel is None:
                raise UsageError(f"unsafe file path in the manifest: {f.get('path')!r}")
            files.append(str(root / rel))
        out[f"{table['schema']}.{table['name']}"] = pads.dataset(files, format="parquet")
    return out
