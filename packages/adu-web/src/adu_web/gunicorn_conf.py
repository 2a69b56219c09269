"""gunicorn configuration for production: ``gunicorn -c python:adu_web.gunicorn_conf adu_web.wsgi:app``.

Every value can be changed by an environment variable:

==========================  ================  ================================================
variable                    default           meaning
==========================  ================  ================================================
``ADU_BIND``                ``0.0.0.0:8080``  address and port to listen on
``ADU_WEB_PROCESSES``       ``2``             gunicorn worker processes
``ADU_WEB_THREADS``         ``8``             threads per process
``ADU_WEB_TIMEOUT``         ``60``            seconds before a stuck request's worker is restarted
``ADU_WEB_CLIENT_SECONDS``  ``15``            seconds a client has to send a whole request
==========================  ================  ================================================

Slow clients are bounded: each thread reads a request with a deadline
(:mod:`adu_web.gworker`), each process keeps at most ``worker_connections`` clients, the
request line, header count and header size are capped, and an idle kept-alive connection
is closed after 2 s. Production still belongs behind a reverse proxy that buffers
requests (nginx, HAProxy): see docs/web.md.

The web processes run no jobs: run ``adu worker`` beside them (the ``worker`` service of
docker-compose). For TLS, terminate it in a reverse proxy and set
``ADU_TRUSTED_PROXIES=1`` (or give gunicorn ``--certfile``/``--keyfile``).
"""

from __future__ import annotations

import os

from adu_core.config import flag


def _int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name) or default))
    except ValueError:
        return default


bind = os.environ.get("ADU_BIND") or "0.0.0.0:8080"
workers = _int("ADU_WEB_PROCESSES", 2)
worker_class = "adu_web.gworker.BoundedThreadWorker"
threads = _int("ADU_WEB_THREADS", 8)
timeout = _int("ADU_WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 2
worker_connections = 200
backlog = 512
# the app's ProxyFix (ADU_TRUSTED_PROXIES) decides which forwarded headers count
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
# no query strings or referrers in the access log (they never hold secrets, but stay lean)
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
errorlog = "-"
limit_request_line = 8190
limit_request_fields = 60
limit_request_field_size = 8190
proc_name = "adu-web"
preload_app = False
# gunicorn >= 24 opens a control socket under $HOME by default; a container does not need it
control_socket_disable = True

if flag(os.environ, "ADU_LOG_STDOUT"):
    # container log collectors: gunicorn's own logs as JSON lines too, through ADU's
    # redacting formatter
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "adu_core.logs.JsonFormatter"}},
        "filters": {"redact": {"()": "adu_core.logs.RedactingFilter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
        "root": {"level": "INFO", "handlers": []},
    }
