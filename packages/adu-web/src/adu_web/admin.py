"""Admin: accounts and roles; named connections shown as references only.

Every rule about accounts (the last active admin, your own account, password length)
is in :mod:`adu_core.services.accounts`; a refused change comes back as a message on
this page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adu_core.errors import NotFound, UsageError
from adu_core.services import accounts, connections, workers
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length

from adu_web.auth import require_login, role_required
from adu_web.state import actor, ctx

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_login)

USERNAME = "[A-Za-z0-9_.@-]{1,128}"


class AddUserForm(FlaskForm):  # type: ignore[misc]
    username = StringField("User name", validators=[DataRequired(), Length(max=128)])
    role = SelectField("Role", choices=list(accounts.ROLES), default="viewer")
    password = PasswordField("Password", validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD, max=1024)])
    confirm = PasswordField("Repeat", validators=[EqualTo("password", message="The passwords differ.")])


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField("Role", choices=list(accounts.ROLES))


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("New password", validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD, max=1024)])


class ActiveForm(FlaskForm):  # type: ignore[misc]
    active = HiddenField(validators=[AnyOf(["0", "1"])])


class RemoveForm(FlaskForm):  # type: ignore[misc]
    pass


def _change(change: Callable[[], Any], done: str) -> Any:
    """Apply an account change; its outcome, or why it was refused, is flashed on the
    admin page (an unknown account is a 404, from the app's error handler)."""
    try:
        change()
    except NotFound:
        raise
    except UsageError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "info")
    return redirect(url_for("admin.index"))


@bp.route("/")
@role_required("admin")
def index() -> Any:
    refs, conn_error = connections.connection_refs(ctx())
    return render_template(
        "admin.html",
        users=accounts.list_users(ctx()),
        add_form=AddUserForm(),
        role_form=RoleForm(),
        password_form=PasswordForm(),
        remove_form=RemoveForm(),
        connections=refs,
        conn_error=conn_error,
        signing_keys=connections.signing_key_names(ctx()),
        workers=workers.list_workers(ctx()),
    )


@bp.route("/users", methods=["POST"])
@role_required("admin")
def add_user() -> Any:
    form = AddUserForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errs in form.errors.values() for e in errs) or "Invalid form.", "error")
        return redirect(url_for("admin.index"))
    name, role = form.username.data or "", form.role.data or "viewer"
    return _change(
        lambda: accounts.add_user(ctx(), name, form.password.data or "", role, actor=actor()), f"User {name} added."
    )


@bp.route(f"/users/<regex('{USERNAME}'):username>/role", methods=["POST"])
@role_required("admin")
def set_role(username: str) -> Any:
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description="Invalid role.")
    role = form.role.data or "viewer"
    return _change(lambda: accounts.set_role(ctx(), username, role, actor=actor()), f"{username} is now {role}.")


@bp.route(f"/users/<regex('{USERNAME}'):username>/password", methods=["POST"])
@role_required("admin")
def set_password(username: str) -> Any:
    form = PasswordForm()
    if not form.validate_on_submit():
        flash(f"A password needs at least {accounts.MIN_PASSWORD} characters.", "error")
        return redirect(url_for("admin.index"))
    password = form.password.data or ""
    return _change(
        lambda: accounts.set_password(ctx(), username, password, actor=actor()), f"Password of {username} changed."
    )


@bp.route(f"/users/<regex('{USERNAME}'):username>/active", methods=["POST"])
@role_required("admin")
def set_active(username: str) -> Any:
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400, description="Invalid form.")
    active = form.active.data == "1"
    return _change(
        lambda: accounts.set_active(ctx(), username, active, actor=actor()),
        f"{username} {'activated' if active else 'deactivated'}.",
    )


@bp.route(f"/users/<regex('{USERNAME}'):username>/remove", methods=["POST"])
@role_required("admin")
def remove_user(username: str) -> Any:
    if not RemoveForm().validate_on_submit():
        abort(400, description="Invalid form.")
    return _change(lambda: accounts.remove_user(ctx(), username, actor=actor()), f"User {username} removed.")
