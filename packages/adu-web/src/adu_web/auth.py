"""Accounts: Flask-Login sessions, HTTP Basic for API scripts, roles, the login pages.

Roles are ordered: a viewer reads, an operator also runs jobs, an admin also manages
users. Every feature blueprint calls :func:`require_login` before each request, so a
route is never public by accident; state-changing routes add :func:`role_required`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from adu_core.services import accounts
from adu_core.services.accounts import UserRow
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from adu_web.state import ctx

log = logging.getLogger("adu.web.auth")

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

ROLE_LEVEL = {"viewer": 1, "operator": 2, "admin": 3}

#: failures from one client address within :data:`IP_WINDOW` seconds before it must wait
IP_MAX_FAILURES = 20
IP_WINDOW = 300.0

F = TypeVar("F", bound=Callable[..., Any])


def _password_stamp(user_id: int) -> str:
    """A keyed fingerprint of the account's password hash: a session carries it, so a
    new password (set by the user or an admin) ends every older session."""
    return accounts.session_stamp(ctx(), user_id, current_app.config["SECRET_KEY"].encode())


class User(UserMixin):  # type: ignore[misc]
    """The signed-in account (loaded from the store on every request, so a role change
    or a removal takes effect at once)."""

    def __init__(self, row: UserRow, stamp: str | None = None) -> None:
        self.row = row
        self.id = row.id
        self.username = row.username
        self.role = row.role
        self._stamp = stamp

    def get_id(self) -> str:
        if self._stamp is None:
            self._stamp = _password_stamp(self.row.id)
        return f"{self.row.id}.{self._stamp}"

    @property
    def is_active(self) -> bool:
        return self.row.active

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLE_LEVEL.get(self.role, 0) >= ROLE_LEVEL[role]


def can(role: str) -> bool:
    """Template and view helper: may the current user act as ``role``?"""
    return bool(current_user.is_authenticated and current_user.can(role))


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(session_id: str) -> User | None:
    user_id, _, stamp = session_id.partition(".")
    if not user_id.isdigit() or not stamp:
        return None
    row = accounts.user_by_id(ctx(), int(user_id))
    if row is None or not row.active:
        return None
    if not hmac.compare_digest(stamp, _password_stamp(row.id)):
        return None  # the password changed since this session signed in
    return User(row, stamp)


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]
def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        return jsonify(error="Unauthorized", message="sign in, or send HTTP Basic credentials"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


class _Throttle:
    """Failed logins per client address (in this process), on top of the store's
    per-account lockout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fails: dict[str, deque[float]] = {}

    def begin(self, addr: str) -> bool:
        """Count an attempt from ``addr`` before its password is checked (one step under
        the lock: concurrent attempts are all counted); False when it must wait. A
        successful sign-in forgets the address's attempts (:meth:`reset`)."""
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > 10000:
                self._fails.clear()
            q = self._fails.setdefault(addr, deque())
            while q and q[0] < now - IP_WINDOW:
                q.popleft()
            if len(q) >= IP_MAX_FAILURES:
                return False
            q.append(now)
            return True

    def blocked(self, addr: str) -> bool:
        now = time.monotonic()
        with self._lock:
            q = self._fails.get(addr)
            if not q:
                return False
            while q and q[0] < now - IP_WINDOW:
                q.popleft()
            return len(q) >= IP_MAX_FAILURES

    def failed(self, addr: str) -> None:
        with self._lock:
            if len(self._fails) > 10000:
                self._fails.clear()
            self._fails.setdefault(addr, deque()).append(time.monotonic())

    def reset(self, addr: str) -> None:
        with self._lock:
            self._fails.pop(addr, None)


throttle = _Throttle()


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        text = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    name, _, password = text.partition(":")
    return name, password


def _api_basic_auth() -> Any:
    """API requests that carry HTTP Basic credentials are authenticated by them alone
    (never by the session: they skip the CSRF check)."""
    if not request.path.startswith("/api/"):
        return None
    creds = _basic_credentials()
    if creds is None:
        return None
    addr = request.remote_addr or "?"
    if not throttle.begin(addr):
        return jsonify(error="Too Many Requests", message="too many failed sign-ins; wait a few minutes"), 429
    row = accounts.authenticate(ctx(), *creds, address=addr) if creds[0] else None
    if row is not None:
        throttle.reset(addr)
    else:
        log.warning("API sign-in failed", extra={"user": creds[0][:128], "addr": addr})
        return jsonify(error="Unauthorized", message="wrong user name or password (or account locked)"), 401
    g._login_user = User(row)  # Flask-Login reads the request's user from here
    g.adu_basic_auth = True
    return None


def require_login() -> Any:
    """``before_request`` hook of every feature blueprint: signed-in users only."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def role_required(role: str) -> Callable[[F], F]:
    """Decorator: the current user needs ``role`` or above (403 otherwise)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(role):
                abort(403, description=f"This needs the {role} role.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("User name", validators=[DataRequired(), Length(max=128)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    """Only a local path: never an outside URL (open redirect)."""
    if not target:
        return url_for("dashboard.index")
    if any(ord(c) < 33 or ord(c) == 127 for c in target):  # CR/LF, spaces: no header injection
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("dashboard.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    status = 200
    if form.validate_on_submit():
        addr = request.remote_addr or "?"
        if not throttle.begin(addr):
            error = "Too many failed sign-ins from this address. Wait a few minutes."
            status = 429
        else:
            row = accounts.authenticate(ctx(), form.username.data or "", form.password.data or "", address=addr)
            if row is None:
                log.warning("sign-in failed", extra={"user": (form.username.data or "")[:128], "addr": addr})
                error = "Wrong user name or password. After repeated failures an account is locked for a few minutes."
                status = 401
            else:
                throttle.reset(addr)
                session.clear()  # no session fixation: a fresh session for the new login
                session.permanent = True
                login_user(User(row))
                log.info("signed in", extra={"user": row.username, "addr": addr})
                return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error = "Enter a user name and a password."
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    """POST (the button in the header, CSRF-checked) signs out; GET asks to confirm."""
    if request.method == "POST":
        if current_user.is_authenticated:
            log.info("signed out", extra={"user": current_user.username})
            accounts.end_sessions(ctx(), current_user.row.id)  # a captured cookie stops working too
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("logout.html")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.before_request_funcs.setdefault(None, []).insert(0, _api_basic_auth)

    @app.context_processor
    def _roles() -> dict[str, Any]:
        return {"can": can}
