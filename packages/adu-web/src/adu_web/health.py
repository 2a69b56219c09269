"""Health endpoints for containers and load balancers (no sign-in, no details)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify

from adu_web.state import store

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
        store().count_jobs()
    except Exception:
        log.warning("readiness check: the store does not answer", exc_info=True)
        return jsonify(status="unavailable", store="unreachable"), 503
    return jsonify(status="ok", store="ok")
