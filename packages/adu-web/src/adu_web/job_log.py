"""The log viewer: a job's JSON-lines log, filtered by level and table, paged, downloadable.

The file is found from the job id *as the store holds it* (``Settings.job_log_path``),
never from a path in the request.
"""

from __future__ import annotations

import os
from typing import Any

from adu_core.logs import read_job_log
from flask import Blueprint, Response, abort, render_template, request

from adu_web.auth import require_login
from adu_web.state import settings
from adu_web.views_common import Page, int_arg, load_job

bp = Blueprint("logs", __name__)
bp.before_request(require_login)

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PAGE_SIZE = 200


def _level_rank(level: Any) -> int:
    try:
        return LEVELS.index(str(level).upper())
    except ValueError:
        return 1


@bp.route("/job/<jobid:job_id>/log")
def show(job_id: str) -> Any:
    job = load_job(job_id)
    level = (request.args.get("level") or "").upper()
    if level and level not in LEVELS:
        abort(400, description="Unknown level.")
    table = request.args.get("table") or ""
    minimum = _level_rank(level) if level else 0
    path = settings().job_log_path(job.id)
    entries = []
    tables: set[str] = set()
    for entry in read_job_log(path):
        t = entry.get("table")
        if isinstance(t, str) and t:
            tables.add(t)
        if _level_rank(entry.get("level")) < minimum:
            continue
        if table and entry.get("table") != table:
            continue
        entries.append(entry)
    size = int_arg("size", PAGE_SIZE, maximum=2000)
    total = len(entries)
    pages = max(1, -(-total // size))
    # newest last; without a page number, open the last page (where a running job writes)
    page = Page(number=min(int_arg("page", pages), pages), size=size, total=total)
    shown = entries[page.offset: page.offset + page.size]
    return render_template("log.html", job=job, entries=shown, page=page, level=level, table=table,
                           tables=sorted(tables), levels=LEVELS, exists=path.is_file())


@bp.route("/job/<jobid:job_id>/log/download")
def download(job_id: str) -> Any:
    job = load_job(job_id)
    path = settings().job_log_path(job.id)
    if not path.is_file():
        abort(404, description="This job has no log file yet.")

    def stream() -> Any:
        with path.open("rb") as fh:
            while chunk := fh.read(64 * 1024):
                yield chunk

    return Response(
        stream(),
        mimetype="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="adu-job-{job.id}.log.jsonl"',
            "Content-Length": str(os.path.getsize(path)),
        },
    )
