"""Job details: configuration (redacted), summary, tables, errors; cancel and retry."""

from __future__ import annotations

from typing import Any

from adu_core.errors import UsageError
from adu_core.models import TableStatus
from adu_core.services import jobs
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from adu_web.auth import require_login, role_required
from adu_web.state import actor, ctx
from adu_web.views_common import ACTIVE, load_job

bp = Blueprint("jobs", __name__)
bp.before_request(require_login)


class CancelForm(FlaskForm):  # type: ignore[misc]
    pass


class RetryForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Source password (if the source needs one)", validators=[Optional(), Length(max=1024)])


def _context(job_id: str) -> dict[str, Any]:
    job = load_job(job_id)
    tables = jobs.tables(ctx(), job.id)
    counts = {s.value: 0 for s in TableStatus}
    for t in tables:
        counts[t.status.value] += 1
    return {
        "job": job,
        "tables": tables,
        "ran_on": jobs.workers_by_table(ctx(), job.id),
        "counts": counts,
        "active": job.status in ACTIVE,
        "events": jobs.events(ctx(), job.id, limit=50),
        "config": job.spec.to_dict(),
        "link": jobs.chain_link(ctx(), job.id),
    }


@bp.route("/job/<jobid:job_id>")
def show(job_id: str) -> Any:
    ctx_ = _context(job_id)
    job = ctx_["job"]
    return render_template(
        "job.html",
        cancel_form=CancelForm(),
        retry_form=RetryForm(),
        retryable=jobs.is_retryable(job),
        needs_password=not job.spec.source.startswith("@") and "@" in job.spec.source,
        **ctx_,
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
            jobs.cancel(ctx(), job.id, actor=actor())
        except UsageError as exc:  # shown on the job page the form came from
            flash(str(exc), "error")
        else:
            flash("Cancel requested.", "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/job/<jobid:job_id>/retry", methods=["POST"])
@role_required("operator")
def retry(job_id: str) -> Any:
    job = load_job(job_id)
    form = RetryForm()
    if form.validate_on_submit():
        try:
            jobs.retry(ctx(), job.id, actor=actor(), password=form.password.data or None)
        except UsageError as exc:  # shown on the job page the form came from
            flash(str(exc), "error")
        else:
            flash("The job is queued again for its failed tables.", "info")
    else:
        flash("The retry form was not valid.", "error")
    return redirect(url_for("jobs.show", job_id=job.id))
