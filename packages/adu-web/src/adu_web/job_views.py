"""Job details: configuration (redacted), summary, tables, errors; cancel and retry."""

from __future__ import annotations

import logging
from typing import Any

from adu_core.errors import UsageError
from adu_core.models import JobStatus, TableStatus
from adu_core.secrets import remember_secret
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from adu_web.auth import require_login, role_required
from adu_web.state import store
from adu_web.views_common import ACTIVE, load_job

log = logging.getLogger("adu.web")

bp = Blueprint("jobs", __name__)
bp.before_request(require_login)


class CancelForm(FlaskForm):  # type: ignore[misc]
    pass


class RetryForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Source password (if the source needs one)", validators=[Optional(), Length(max=1024)])


def _context(job_id: str) -> dict[str, Any]:
    job = load_job(job_id)
    tables = store().list_tables(job.id)
    counts = {s.value: 0 for s in TableStatus}
    for t in tables:
        counts[t.status.value] += 1
    return {
        "job": job,
        "tables": tables,
        "counts": counts,
        "active": job.status in ACTIVE,
        "events": store().list_events(job.id, limit=50),
        "config": job.spec.to_dict(),
    }


@bp.route("/job/<jobid:job_id>")
def show(job_id: str) -> Any:
    ctx = _context(job_id)
    job = ctx["job"]
    retryable = job.status.finished and job.status != JobStatus.SUCCEEDED
    return render_template(
        "job.html",
        cancel_form=CancelForm(),
        retry_form=RetryForm(),
        retryable=retryable,
        needs_password=not job.spec.source.startswith("@") and "@" in job.spec.source,
        **ctx,
    )


@bp.route("/job/<jobid:job_id>/partial")
def partial(job_id: str) -> Any:
    """Summary and tables alone, for live progress."""
    return render_template("_job_live.html", **_context(job_id))


@bp.route("/job/<jobid:job_id>/cancel", methods=["POST"])
@role_required("operator")
def cancel(job_id: str) -> Any:
    job = load_job(job_id)
    if CancelForm().validate_on_submit():
        try:
            store().request_cancel(job.id)
        except UsageError as exc:
            flash(str(exc), "error")
        else:
            store().add_event(job.id, "WARNING", f"cancel requested by {current_user.username}")
            log.info("cancel requested", extra={"job_id": job.id, "user": current_user.username})
            flash("Cancel requested.", "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/job/<jobid:job_id>/retry", methods=["POST"])
@role_required("operator")
def retry(job_id: str) -> Any:
    job = load_job(job_id)
    form = RetryForm()
    if form.validate_on_submit():
        password = form.password.data or None
        remember_secret(password)
        try:
            store().retry_job(job.id, password=password)
        except UsageError as exc:
            flash(str(exc), "error")
        else:
            store().add_event(job.id, "INFO", f"retry of failed tables requested by {current_user.username}")
            log.info("retry requested", extra={"job_id": job.id, "user": current_user.username})
            flash("The job is queued again for its failed tables.", "info")
    else:
        flash("The retry form was not valid.", "error")
    return redirect(url_for("jobs.show", job_id=job.id))
