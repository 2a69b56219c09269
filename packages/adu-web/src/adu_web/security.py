"""Security plumbing: headers, CSRF, secure cookies, validated job ids, and the one
place where errors become answers (a page, or JSON under ``/api/``)."""

from __future__ import annotations

import logging
from typing import Any

from adu_core.errors import Busy, Conflict, NotFound, UsageError
from adu_core.secrets import redact_text
from flask import Flask, Response, current_app, has_request_context, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import BaseConverter

log = logging.getLogger("adu.web")

csrf = CSRFProtect()

#: Nothing but this origin: no inline script or style, no frames, no outside URL.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class JobIdConverter(BaseConverter):
    """A full job id: 32 lowercase hex digits (anything else is a 404 before any lookup)."""

    regex = "[0-9a-f]{32}"


class RegexConverter(BaseConverter):
    """``<regex('[a-z]+'):name>``: a path part matching a fixed pattern (our code only)."""

    def __init__(self, url_map: Any, *items: str) -> None:
        super().__init__(url_map)
        self.regex = items[0]


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure in production and on every HTTPS request
    (behind a TLS proxy too, when ``ADU_TRUSTED_PROXIES`` lets ProxyFix see the scheme)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return has_request_context() and request.is_secure


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def uses_basic_auth() -> bool:
    """A script sending its own ``Authorization`` header: a browser never adds one to a
    cross-site request on its own (we never send a Basic challenge), so CSRF cannot apply."""
    auth = request.headers.get("Authorization", "")
    return auth[:6].lower() == "basic "


def _csrf_check() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True) or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.path.startswith("/api/") and uses_basic_auth():
        return
    csrf.protect()


def _set_headers(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error(code: int, title: str, message: str) -> tuple[Any, int]:
    if wants_json():
        return jsonify(error=title, message=message), code
    return render_template("error.html", code=code, title=title, message=message), code


def _http_error(exc: HTTPException) -> Any:
    if isinstance(exc, CSRFError):
        return _error(
            400, "Form expired", "The form's security token is missing or stale. Reload the page and try again."
        )
    # werkzeug's descriptions are generic and never hold request data; ours are set on purpose.
    # No WWW-Authenticate on 401: a browser must never pop up a Basic prompt (and then
    # replay those credentials cross-site); scripts send Basic credentials up front.
    return _error(exc.code or 500, exc.name, exc.description or "")


def _usage_error(exc: UsageError) -> Any:
    """Bad input from the request, or a state that does not allow it: 404 for an unknown
    job or account, 409 for a conflict (a finished job cancelled, the last admin
    removed), 400 otherwise. The message is ADU's own one line, safe to show."""
    if isinstance(exc, NotFound):
        return _error(404, "Not Found", redact_text(str(exc)))
    if isinstance(exc, Conflict):
        return _error(409, "Conflict", redact_text(str(exc)))
    if isinstance(exc, Busy):
        return _error(429, "Too Many Requests", redact_text(str(exc)))
    return _error(400, "Bad Request", redact_text(str(exc)))


def _server_error(exc: Exception) -> Any:
    original = getattr(exc, "original_exception", None) or exc
    # the service log gets the traceback (through the redaction filter); the page gets nothing
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return _error(
        500,
        "Internal error",
        "Something went wrong on the server. The administrator can find the details in the service log.",
    )


def init_app(app: Flask) -> None:
    app.url_map.converters["jobid"] = JobIdConverter
    app.url_map.converters["regex"] = RegexConverter
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    app.before_request(_csrf_check)
    app.after_request(_set_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(UsageError, _usage_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(Exception, _server_error)
