"""The application factory."""

from __future__ import annotations

import os
from typing import Any

from adu_core import config
from adu_core.errors import UsageError
from adu_core.store import Store
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from adu_web import admin, api, auth, dashboard, exports, formatting, health, job_log, job_views, new_job, security
from adu_web.state import AduState

#: Environment variables the web app reads on top of :data:`adu_core.config.VARIABLES`.
WEB_VARIABLES: dict[str, tuple[str, str]] = {
    "ADU_TRUSTED_PROXIES": (
        "0",
        "Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host headers are "
        "trusted (1 behind one TLS-terminating proxy); cookies are then marked Secure for HTTPS requests.",
    ),
    "ADU_SECURE_COOKIES": ("1 in production, else 0", "Always mark the session cookie Secure."),
    "ADU_SESSION_HOURS": ("12", "How long a login lasts."),
}


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def create_app(
    settings: config.Settings | None = None,
    store: Store | None = None,
    *,
    env: dict[str, str] | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """Build the dashboard.

    :param settings: process settings (default: read from the environment).
    :param store: the job store (default: opened from ``settings``).
    :param env: environment for the web-only variables (default: ``os.environ``).
    :param test_config: Flask config overrides (tests).
    :raises UsageError: in production with a default or missing secret key.
    """
    environ = os.environ if env is None else env
    settings = settings or config.load()
    if settings.production and (settings.secret_key_is_default or len(settings.secret_key) < 16):
        raise UsageError("refusing to start: ADU_ENV=production needs a real ADU_SECRET_KEY (16+ characters)")
    if store is None:
        store = Store.from_settings(settings)

    app = Flask(__name__)
    try:
        hours = int(environ.get("ADU_SESSION_HOURS") or 12)
    except ValueError:
        raise UsageError("ADU_SESSION_HOURS must be a whole number") from None
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="adu_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_flag(environ.get("ADU_SECURE_COOKIES"), settings.production),
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
    proxies = environ.get("ADU_TRUSTED_PROXIES") or "0"
    try:
        n_proxies = int(proxies)
    except ValueError:
        raise UsageError("ADU_TRUSTED_PROXIES must be a whole number") from None
    if n_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n_proxies, x_proto=n_proxies, x_host=n_proxies)  # type: ignore[method-assign]

    app.extensions["adu"] = AduState(settings=settings, store=store)
    security.init_app(app)
    auth.init_app(app)
    formatting.init_app(app)
    for module in (health, auth, dashboard, job_views, job_log, exports, new_job, admin, api):
        app.register_blueprint(module.bp)
    return app
