"""The dashboard: jobs, newest first, paged, filtered by status, with live progress."""

from __future__ import annotations

from typing import Any

from adu_core.services import jobs
from flask import Blueprint, render_template

from adu_web.auth import require_login
from adu_web.state import ctx
from adu_web.views_common import ACTIVE, STATUSES, Page, int_arg, status_arg

bp = Blueprint("dashboard", __name__)
bp.before_request(require_login)

PAGE_SIZE = 25


def _context() -> dict[str, Any]:
    status = status_arg()
    total = jobs.count(ctx(), status=status)
    page = Page(number=int_arg("page", 1), size=int_arg("size", PAGE_SIZE, maximum=200), total=total)
    if page.number > page.pages:
        page = Page(number=page.pages, size=page.size, total=total)
    rows = jobs.list_jobs(ctx(), status=status, limit=page.size, offset=page.offset)
    return {
        "jobs": rows,
        "page": page,
        "status": status,
        "statuses": STATUSES,
        "active": any(j.status in ACTIVE for j in rows),
    }


@bp.route("/")
def index() -> Any:
    return render_template("dashboard.html", **_context())


@bp.route("/partials/jobs")
def jobs_partial() -> Any:
    """The jobs table alone: what the page's script swaps in for live progress."""
    return render_template("_jobs.html", **_context())
