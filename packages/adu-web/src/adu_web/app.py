"""The application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from adu_core import config
from adu_core.secrets import secret_scope
from adu_core.services.context import Context
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from adu_web import admin, api, auth, dashboard, exports, formatting, health, job_log, job_views, new_job, security

#: Environment variables the web app reads on top of :data:`adu_core.config.VARIABLES`.
WEB_VARIABLES: dict[str, tuple[str, str]] = {
    "ADU_TRUSTED_PROXIES": (
        "0",
        "Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host headers are "
        "trusted (1 behind one TLS-terminating proxy); cookies are then marked Secure for HTTPS requests.",
    ),
    "ADU_SECURE_COOKIES": ("1 in production, else 0", "Always mark the session cookie Secure."),
    "ADU_SESSION_HOURS": ("12", "How long a login lasts."),
    "ADU_WEB_CLIENT_SECONDS": (
        "15",
        "Seconds a client has to send one whole request (adu serve and the gunicorn config; adu_web.gworker).",
    ),
}


def _reaping(context: Context) -> Any:
    def reap() -> None:
        if request.blueprint != "health":
            context.reap()

    return reap


class _SecretScopes:
    """WSGI middleware: every request has its own scope of secrets (what it is typed
    masks what it writes, and nothing of any other request or job)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with secret_scope(name="request"):
            return self.app(environ, start_response)


def create_app(
    settings: config.Settings | None = None,
    context: Context | None = None,
    *,
    env: Mapping[str, str] | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """Build the dashboard.

    :param settings: process settings (default: the context's, or read from the environment).
    :param context: the services' context to share (default: made from ``settings``).
    :param env: environment for the web-only variables (default: ``os.environ``).
    :param test_config: Flask config overrides (tests).
    :raises UsageError: in production with a default or missing secret key, or a web
        variable with a bad value.
    """
    environ = os.environ if env is None else env
    if settings is None:
        settings = context.settings if context is not None else config.load()
    settings.check_secret_key()
    if context is None:
        context = Context(settings)
    elif context.settings is not settings:
        context = context.with_settings(settings)
    context.open()  # the store is migrated now, not in the first request

    app = Flask(__name__)
    hours = config.integer(environ, "ADU_SESSION_HOURS", 12, 1)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="adu_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.flag(environ, "ADU_SECURE_COOKIES", settings.production),
        PERMANENT_SESSION_LIFETIME=hours * 3600,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # valid for the whole session: a page left open still posts
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in security.csrf_check (skipped for HTTP Basic API calls)
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.wsgi_app = _SecretScopes(app.wsgi_app)  # type: ignore[method-assign]
    n_proxies = config.integer(environ, "ADU_TRUSTED_PROXIES", 0)
    if n_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n_proxies, x_proto=n_proxies, x_host=n_proxies)  # type: ignore[method-assign]

    app.extensions["adu"] = context
    # a web-only deployment notices jobs whose worker died too: any request but a health
    # check may reap them (at most once per ADU_HEARTBEAT_SECONDS; one indexed read when
    # none expired)
    app.before_request(_reaping(context))
    security.init_app(app)
    auth.init_app(app)
    formatting.init_app(app)
    for module in (health, auth, dashboard, job_views, job_log, exports, new_job, admin, api):
        app.register_blueprint(module.bp)
    return app
