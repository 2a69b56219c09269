"""Health endpoints for containers and load balancers (no sign-in, no details)."""

from __future__ import annotations

import logging
from typing import Any

from adu_core.services import jobs
from flask import Blueprint, jsonify

from adu_web.state import ctx

log = logging.getLogger("adu.web")

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Any:
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz() -> Any:
    """Readiness: the job store answers a query."""
    try:
        jobs.count(ctx())
    except Exception:
        log.warning("readiness check: the store does not answer", exc_info=True)
        return jsonify(status="unavailable", store="unreachable"), 503
    return jsonify(status="ok", store="ok")
