"""Health endpoints for containers and load balancers (no sign-in, no details).

* ``/healthz`` (liveness): the process answers, and its embedded workers (``adu serve``)
  are all alive — a dead one fails it until its supervisor has restarted it.
* ``/readyz`` (readiness): the job store answers, and at least one worker (embedded or an
  ``adu worker`` on any host) was heard from within a lease: without one, jobs would wait
  in the queue forever.
"""

from __future__ import annotations

import logging
from typing import Any

from adu_core.services import jobs, workers
from flask import Blueprint, jsonify

from adu_web.state import ctx

log = logging.getLogger("adu.web")

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Any:
    """Liveness: the process answers and its embedded workers run."""
    embedded = workers.embedded_health(ctx())
    if embedded is not None and embedded[0] < embedded[1]:
        return jsonify(status="unhealthy", workers=f"{embedded[0]}/{embedded[1]} embedded workers alive"), 503
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz() -> Any:
    """Readiness: the job store answers and a worker is alive to run jobs."""
    if not jobs.store_answers(ctx()):
        log.warning("readiness check: the store does not answer")
        return jsonify(status="unavailable", store="unreachable"), 503
    live = workers.live_count(ctx())
    if live == 0:
        return jsonify(status="unavailable", store="ok", workers=0), 503
    return jsonify(status="ok", store="ok", workers=live)
