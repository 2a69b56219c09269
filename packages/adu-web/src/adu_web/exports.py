"""Export browser: a job's manifest, files and checksums, a preview of each table.

Everything is read through :mod:`adu_core.services.exports` from ``manifest.json`` in the
job's target directory as the store records it; file paths come from that manifest and
must be regular files inside that directory (the service checks the resolved path).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from adu_core.errors import UsageError
from adu_core.services.exports import Export, ManifestError, browse_export, verify_export
from adu_core.services.loads import IF_EXISTS
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from adu_web import services
from adu_web.auth import require_login, role_required
from adu_web.views_common import int_arg, load_job

log = logging.getLogger("adu.web")

bp = Blueprint("exports", __name__)
bp.before_request(require_login)

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
PREVIEW_ROWS = 20


class VerifyForm(FlaskForm):  # type: ignore[misc]
    pass


class LoadForm(FlaskForm):  # type: ignore[misc]
    """ "Load into…": the CSRF token; target and --if-exists come from the request."""


def _load_targets() -> list[str]:
    """Named connections an operator may load into (the web takes no database URL)."""
    if not current_user.is_authenticated or not current_user.can("operator"):
        return []
    refs, _error = services.connection_refs()
    return [ref.name for ref in refs]


def _root(job: Any) -> Path:
    """The export directory of a job: an export's output, or the export a load read."""
    return Path(job.spec.source if job.spec.is_load else job.target).resolve()


def open_browser(root: Path) -> tuple[Export | None, str | None, bool]:
    """The export in ``root``, or an error line; and whether a manifest is there at all."""
    try:
        return browse_export(root, max_bytes=MAX_MANIFEST_BYTES), None, True
    except ManifestError as exc:
        if exc.reason == "missing":
            return None, "This job's output directory holds no manifest yet (the export has not finished).", False
        if "larger than" in str(exc):
            return None, "The manifest is too large to show here; use `adu verify`.", True
        return None, f"The manifest cannot be used: {str(exc).split(': ', 1)[-1]}", True


def _page(job: Any, root: Path, report: Any = None) -> Any:
    export, error, _present = open_browser(root)
    return render_template(
        "export.html",
        job=job,
        manifest=export.manifest if export else None,
        error=error,
        sealed=export is not None and export.sealed,
        signed=export is not None and export.signed,
        form=VerifyForm(),
        report=report,
        load_form=LoadForm(),
        load_targets=[] if job.spec.is_load or export is None else _load_targets(),
        if_exists_choices=IF_EXISTS,
        directory=root,
    )


@bp.route("/job/<jobid:job_id>/export")
def show(job_id: str) -> Any:
    job = load_job(job_id)
    return _page(job, _root(job))


@bp.route("/job/<jobid:job_id>/export/verify", methods=["POST"])
def verify(job_id: str) -> Any:
    job = load_job(job_id)
    root = _root(job)
    export, _error, _present = open_browser(root)
    return _page(job, root, verify_export(root) if export else None)


@bp.route("/job/<jobid:job_id>/export/table/<int:index>")
def preview(job_id: str, index: int) -> Any:
    job = load_job(job_id)
    export, error, present = open_browser(_root(job))
    if export is None:
        # no manifest: nothing to show; a manifest that cannot be used: bad data, refused
        abort(400 if present else 404, description=error or "No manifest.")
    if index >= len(export.tables):
        abort(404, description="No such table in this export.")
    entry = export.tables[index]
    limit = int_arg("rows", PREVIEW_ROWS, maximum=200)
    try:
        files = export.files(entry)
    except UsageError as exc:
        abort(400, description=str(exc))
    columns: tuple[str, ...] = ()
    rows: list[list[str]] = []
    problem = None
    if files:
        try:
            shown = export.preview(entry, limit=limit)
        except UsageError as exc:
            problem = str(exc)
        except Exception:
            log.warning("preview failed", extra={"job_id": job.id}, exc_info=True)
            problem = "These files cannot be read; the service log has the details."
        else:
            columns = shown.columns
            rows = [["NULL" if v is None else v for v in row] for row in shown.rows]
    return render_template(
        "preview.html", job=job, entry=entry, index=index, columns=columns, rows=rows, limit=limit, problem=problem
    )


@bp.route("/job/<jobid:job_id>/export/load", methods=["POST"])
@role_required("operator")
def load(job_id: str) -> Any:
    """Queue a load of this job's export into a named connection."""
    job = load_job(job_id)
    if job.spec.is_load:
        abort(400, description="This job is a load, not an export.")
    if not LoadForm().validate_on_submit():
        abort(400, description="The form expired; reload the page.")
    target = "@" + request.form.get("target", "").lstrip("@")
    if_exists = request.form.get("if_exists", "fail")
    try:
        spec = services.load_spec_from(str(_root(job)), target, if_exists=if_exists)
        new_id = services.submit_load(spec)
    except UsageError as exc:
        flash(str(exc), "error")
        return redirect(url_for("exports.show", job_id=job.id))
    flash(f"Load into {target} queued.", "info")
    return redirect(url_for("jobs.show", job_id=new_id))
