"""The log viewer: a job's JSON-lines log, filtered by level and table, paged, downloadable.

The file is found from the job id *as the store holds it* (``Settings.job_log_path``),
never from a path in the request.
"""

from __future__ import annotations

import json
import os
from collections import deque
from typing import Any

from adu_core.logs import read_job_log
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

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
    size = int_arg("size", PAGE_SIZE, maximum=2000)
    wanted = int_arg("page", 0, minimum=1) if request.args.get("page") else None
    # one pass, memory bounded by the page size: keep the asked page, or the last one
    tables: set[str] = set()
    window: deque[dict[str, Any]] = deque(maxlen=size)
    total = 0
    for entry in read_job_log(path):
        t = entry.get("table")
        if isinstance(t, str) and t:
            tables.add(t)
        if _level_rank(entry.get("level")) < minimum or (table and entry.get("table") != table):
            continue
        if wanted is None or (wanted - 1) * size <= total < wanted * size:
            window.append(entry)
        total += 1
    pages = max(1, -(-total // size))
    if wanted is not None and wanted > pages:
        return redirect(
            url_for(
                "logs.show",
                job_id=job.id,
                level=level or None,
                table=table or None,
                size=size if size != PAGE_SIZE else None,
                page=pages,
            )
        )
    if wanted is None:  # newest last: open on the last page
        page = Page(number=pages, size=size, total=total)
        kept = list(window)
        shown = kept[len(kept) - (total - page.offset) :]
    else:
        page = Page(number=wanted, size=size, total=total)
        shown = list(window)
    return render_template(
        "log.html",
        job=job,
        entries=shown,
        page=page,
        level=level,
        table=table,
        tables=sorted(tables),
        levels=LEVELS,
        exists=path.is_file(),
    )


@bp.route("/job/<jobid:job_id>/log/download")
def download(job_id: str) -> Any:
    job = load_job(job_id)
    path = settings().job_log_path(job.id)
    if not path.is_file():
        abort(404, description="This job has no log file yet.")

    if not current_user.can("operator"):  # viewers: no tracebacks (server paths)
        lines = (
            json.dumps({k: v for k, v in e.items() if k != "exc"}, ensure_ascii=False) + "\n"
            for e in read_job_log(path)
        )
        return Response(
            lines,
            mimetype="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="adu-job-{job.id}.log.jsonl"'},
        )

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
