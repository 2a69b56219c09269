"""Export browser: a job's manifest, files and checksums, a preview of each table.

Everything is read from ``manifest.json`` in the job's target directory as the store
records it; file paths come from that manifest and must stay inside that directory
(checked on the resolved path, and DuckDB is confined to it as well).
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from adu_core.manifest import is_sealed
from adu_core.verify import MANIFEST_NAME, SIGNATURE_NAME, safe_relpath, verify_export
from flask import Blueprint, abort, render_template
from flask_wtf import FlaskForm

from adu_web.auth import require_login
from adu_web.views_common import int_arg, load_job

log = logging.getLogger("adu.web")

bp = Blueprint("exports", __name__)
bp.before_request(require_login)

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
PREVIEW_ROWS = 20
MAX_CELL = 200


class VerifyForm(FlaskForm):  # type: ignore[misc]
    pass


def _root(target: str) -> Path:
    return Path(target).resolve()


def read_manifest(root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest in ``root`` and an error line when it cannot be read."""
    path = root / MANIFEST_NAME
    if not path.is_file() or path.is_symlink():
        return None, "This job's output directory holds no manifest yet (the export has not finished)."
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        return None, "The manifest is too large to show here; use `adu verify`."
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None, "The manifest cannot be read: it is not valid JSON."
    if not isinstance(data, dict) or not isinstance(data.get("tables", []), list):
        return None, "The file manifest.json is not an ADU manifest."
    return data, None


def table_files(root: Path, entry: dict[str, Any]) -> list[Path]:
    """The data files of a manifest table entry, each checked to lie inside ``root``."""
    out = []
    for f in entry.get("files") or []:
        rel = safe_relpath(f.get("path") if isinstance(f, dict) else None)
        if rel is None:
            abort(400, description="The manifest names a file outside the export; refusing to read it.")
        full = (root / rel).resolve()
        if not full.is_relative_to(root) or not full.is_file():
            abort(400, description="The manifest names a file outside the export or a missing file.")
        out.append(full)
    return out


def preview_rows(root: Path, files: list[Path], limit: int) -> tuple[list[str], list[list[str]]]:
    """The first ``limit`` rows of the Parquet ``files``, as text, read by DuckDB confined
    to ``root``."""
    import duckdb

    con = duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False, "threads": 1}
    )
    try:
        with contextlib.suppress(duckdb.Error):
            con.execute("SET TimeZone = 'UTC'")  # timestamps shown in UTC, as everywhere in the dashboard
        con.execute("SET allowed_directories = $1", [[str(root) + "/"]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        # every value as DuckDB's own text form: exact, and no Python conversion (pytz...) needed
        cur = con.execute("SELECT COLUMNS(*)::VARCHAR FROM read_parquet($1) LIMIT $2", [[str(f) for f in files], limit])
        columns = [d[0] for d in cur.description or []]
        rows = [[_cell(v) for v in row] for row in cur.fetchall()]
    finally:
        con.close()
    return columns, rows


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "…"


@bp.route("/job/<jobid:job_id>/export")
def show(job_id: str) -> Any:
    job = load_job(job_id)
    root = _root(job.target)
    manifest, error = read_manifest(root)
    sealed = bool(manifest) and is_sealed(manifest or {})
    signed = (root / SIGNATURE_NAME).is_file()
    return render_template(
        "export.html",
        job=job,
        manifest=manifest,
        error=error,
        sealed=sealed,
        signed=signed,
        form=VerifyForm(),
        report=None,
    )


@bp.route("/job/<jobid:job_id>/export/verify", methods=["POST"])
def verify(job_id: str) -> Any:
    job = load_job(job_id)
    root = _root(job.target)
    manifest, error = read_manifest(root)
    report = verify_export(root) if manifest else None
    return render_template(
        "export.html",
        job=job,
        manifest=manifest,
        error=error,
        sealed=bool(manifest) and is_sealed(manifest or {}),
        signed=(root / SIGNATURE_NAME).is_file(),
        form=VerifyForm(),
        report=report,
    )


@bp.route("/job/<jobid:job_id>/export/table/<int:index>")
def preview(job_id: str, index: int) -> Any:
    job = load_job(job_id)
    root = _root(job.target)
    manifest, error = read_manifest(root)
    if manifest is None:
        abort(404, description=error or "No manifest.")
    tables = manifest.get("tables") or []
    if index >= len(tables) or not isinstance(tables[index], dict):
        abort(404, description="No such table in this export.")
    entry = tables[index]
    files = table_files(root, entry)
    limit = int_arg("rows", PREVIEW_ROWS, maximum=200)
    columns: list[str] = []
    rows: list[list[str]] = []
    problem = None
    if files:
        try:
            columns, rows = preview_rows(root, files, limit)
        except Exception as exc:
            log.warning("preview failed", extra={"job_id": job.id}, exc_info=True)
            problem = f"DuckDB cannot read these files: {str(exc).splitlines()[0][:200]}"
    return render_template(
        "preview.html", job=job, entry=entry, index=index, columns=columns, rows=rows, limit=limit, problem=problem
    )
