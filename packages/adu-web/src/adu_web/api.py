"""The JSON API under ``/api/``: the same accounts and roles as the pages.

Authentication: the browser session (state-changing calls then need the CSRF token in
an ``X-CSRFToken`` header) or HTTP Basic credentials sent up front by scripts
(``curl -u name:password``), which skip CSRF and never create a session.

=======  ==============================  ========  ===========================================
method   path                            role      what
=======  ==============================  ========  ===========================================
GET      /api/jobs?status=&limit=&offset= viewer   jobs, newest first, and the total
POST     /api/jobs                       operator  queue a job: a JobSpec as JSON, plus
                                                   optional ``password``; 201 with the job
                                                   (incremental: ``cursors``
                                                   ``{"s.t": "column"}``, ``after``
                                                   ``"last"`` or an export directory)
GET      /api/jobs/<id>                  viewer    the job with its tables
POST     /api/jobs/<id>/cancel           operator  ask a queued or running job to stop
POST     /api/jobs/<id>/retry            operator  queue the failed tables again
                                                   (optional ``password``)
POST     /api/loads                      operator  queue a load: ``{"directory": DIR or
                                                   "export_job": ID, "target": "@name",
                                                   "if_exists", "tables", "schema_map"}``;
                                                   201 with the job
POST     /api/discover                   operator  ``{"source": url-or-@name, "password",
                                                   "source_options"}``: the tables of a source
GET      /api/me                         viewer    who am I (user name and role)
=======  ==============================  ========  ===========================================
"""

from __future__ import annotations

from typing import Any

from adu_core.errors import UsageError
from adu_core.secrets import redact_options
from adu_core.services import jobs
from adu_core.services.jobs import JobRow
from flask import Blueprint, abort, jsonify, request, url_for
from flask_login import current_user

from adu_web import services
from adu_web.auth import require_login, role_required
from adu_web.state import actor, ctx
from adu_web.views_common import STATUSES, load_job

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(require_login)


def _without_tracebacks(value: Any) -> Any:
    """``value`` without any ``traceback`` field (viewers never see server paths)."""
    if isinstance(value, dict):
        return {k: _without_tracebacks(v) for k, v in value.items() if k != "traceback"}
    if isinstance(value, list):
        return [_without_tracebacks(v) for v in value]
    return value


def _job(job: JobRow, *, tables: bool = False) -> dict[str, Any]:
    data = job.to_dict()
    data["url"] = url_for("jobs.show", job_id=job.id)
    data["api_url"] = url_for("api.show_job", job_id=job.id)
    spec = data.get("spec") or {}
    for key in ("source_options", "sink_options"):
        if isinstance(spec.get(key), dict):
            spec[key] = redact_options(spec[key])
    if tables:
        data["tables"] = [t.to_dict() for t in jobs.tables(ctx(), job.id)]
    if not current_user.can("operator"):
        data = _without_tracebacks(data)
    return data


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise UsageError("the body must be a JSON object (Content-Type: application/json)")
    return data


def _int(name: str, default: int, maximum: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        abort(400, description=f"{name} must be a whole number")
    return max(0, min(value, maximum))


@bp.route("/me")
def me() -> Any:
    return jsonify(username=current_user.username, role=current_user.role)


@bp.route("/jobs", methods=["GET"])
def list_jobs() -> Any:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise UsageError(f"status must be one of {', '.join(STATUSES)}")
    limit = _int("limit", 50, 500) or 50
    offset = _int("offset", 0, 10**9)
    rows = jobs.list_jobs(ctx(), status=status, limit=limit, offset=offset)
    return jsonify(jobs=[_job(j) for j in rows], total=jobs.count(ctx(), status=status), limit=limit, offset=offset)


@bp.route("/jobs", methods=["POST"])
@role_required("operator")
def create_job() -> Any:
    spec, password = services.spec_from_json(_body())
    job_id = services.submit(spec, password=password)
    return jsonify(_job(jobs.get(ctx(), job_id))), 201, {"Location": url_for("api.show_job", job_id=job_id)}


@bp.route("/loads", methods=["POST"])
@role_required("operator")
def create_load() -> Any:
    data = _body()
    directory = data.get("directory")
    if data.get("export_job") is not None:
        export_job = load_job(str(data["export_job"]))
        if export_job.spec.is_load:
            raise UsageError("export_job names a load job, not an export")
        directory = export_job.target
    if not isinstance(directory, str) or not directory.strip():
        raise UsageError("give 'directory' (an export directory) or 'export_job' (an export job's id)")
    target = data.get("target")
    if not isinstance(target, str):
        raise UsageError("give 'target': the @name of a named connection")
    if_exists = data.get("if_exists", "fail")
    if not isinstance(if_exists, str):
        raise UsageError("if_exists must be a string")
    spec = services.load_spec_from(
        directory, target, if_exists=if_exists, tables=data.get("tables"), schema_map=data.get("schema_map")
    )
    job_id = services.submit_load(spec)
    return jsonify(_job(jobs.get(ctx(), job_id))), 201, {"Location": url_for("api.show_job", job_id=job_id)}


@bp.route("/jobs/<jobid:job_id>")
def show_job(job_id: str) -> Any:
    return jsonify(_job(load_job(job_id), tables=True))


@bp.route("/jobs/<jobid:job_id>/cancel", methods=["POST"])
@role_required("operator")
def cancel_job(job_id: str) -> Any:
    return jsonify(_job(jobs.cancel(ctx(), load_job(job_id).id, actor=actor())))


@bp.route("/jobs/<jobid:job_id>/retry", methods=["POST"])
@role_required("operator")
def retry_job(job_id: str) -> Any:
    job = load_job(job_id)
    data = request.get_json(silent=True) or {}
    password = data.get("password") if isinstance(data, dict) else None
    if password is not None and not isinstance(password, str):
        raise UsageError("password must be a string")
    return jsonify(_job(jobs.retry(ctx(), job.id, actor=actor(), password=password or None)))


@bp.route("/discover", methods=["POST"])
@role_required("operator")
def discover() -> Any:
    data = _body()
    source = data.get("source")
    password = data.get("password")
    options = data.get("source_options") or {}
    if not isinstance(source, str) or not source.strip():
        raise UsageError("give 'source': a URL or @name of a named connection")
    if password is not None and not isinstance(password, str):
        raise UsageError("password must be a string")
    if not isinstance(options, dict):
        raise UsageError("source_options must be an object")
    tables = services.discover(source, password, options)
    return jsonify(tables=[t.to_dict() for t in tables])
