"""Helpers the feature blueprints share: loading a job, paging, request arguments."""

from __future__ import annotations

import math
from typing import Any

import attrs
from adu_core.models import JobStatus
from adu_core.services import jobs
from adu_core.services.jobs import JobRow
from flask import abort, request

from adu_web.state import ctx

STATUSES = tuple(s.value for s in JobStatus)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def load_job(job_id: str) -> JobRow:
    """The job with this exact id (NotFound, a 404, otherwise)."""
    return jobs.get(ctx(), job_id, exact=True)


def int_arg(name: str, default: int, *, minimum: int = 1, maximum: int = 1_000_000) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"'{name}' must be a whole number.")
    return max(minimum, min(maximum, value))


def status_arg() -> str | None:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(400, description="Unknown status filter.")
    return status


@attrs.frozen
class Page:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def args(self, **extra: Any) -> dict[str, Any]:
        return {k: v for k, v in extra.items() if v not in (None, "")}
