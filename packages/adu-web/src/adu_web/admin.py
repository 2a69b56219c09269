"""Admin: accounts and roles; named connections shown as references only."""

from __future__ import annotations

import logging
from typing import Any

from adu_core.errors import NotFound, UsageError
from adu_core.store import ROLES
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from adu_web import services
from adu_web.auth import require_login, role_required
from adu_web.state import store

log = logging.getLogger("adu.web")

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_login)

USERNAME = "[A-Za-z0-9_.@-]{1,128}"


class AddUserForm(FlaskForm):  # type: ignore[misc]
    username = StringField("User name", validators=[DataRequired(), Length(max=128)])
    role = SelectField("Role", choices=list(ROLES), default="viewer")
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField("Repeat", validators=[EqualTo("password", message="The passwords differ.")])


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField("Role", choices=list(ROLES))


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)])


class RemoveForm(FlaskForm):  # type: ignore[misc]
    pass


def _admins() -> int:
    return sum(1 for u in store().list_users() if u.role == "admin" and u.active)


@bp.route("/")
@role_required("admin")
def index() -> Any:
    refs, conn_error = services.connection_refs()
    return render_template(
        "admin.html",
        users=store().list_users(),
        add_form=AddUserForm(),
        role_form=RoleForm(),
        password_form=PasswordForm(),
        remove_form=RemoveForm(),
        connections=refs,
        conn_error=conn_error,
        workers=store().list_workers(),
    )


@bp.route("/users", methods=["POST"])
@role_required("admin")
def add_user() -> Any:
    form = AddUserForm()
    if form.validate_on_submit():
        try:
            store().add_user(form.username.data or "", form.password.data or "", form.role.data or "viewer")
        except UsageError as exc:
            flash(str(exc), "error")
        else:
            log.info("user added", extra={"user": current_user.username, "account": form.username.data})
            flash(f"User {form.username.data} added.", "info")
    else:
        flash("; ".join(e for errs in form.errors.values() for e in errs) or "Invalid form.", "error")
    return redirect(url_for("admin.index"))


@bp.route(f"/users/<regex('{USERNAME}'):username>/role", methods=["POST"])
@role_required("admin")
def set_role(username: str) -> Any:
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description="Invalid role.")
    try:
        user = store().get_user(username)
        if user.role == "admin" and form.role.data != "admin" and _admins() <= 1:
            raise UsageError("the last admin cannot lose the admin role")
        store().set_role(username, form.role.data or "viewer")
    except NotFound:
        abort(404, description="No such user.")
    except UsageError as exc:
        flash(str(exc), "error")
    else:
        log.info("role changed", extra={"user": current_user.username, "account": username, "role": form.role.data})
        flash(f"{username} is now {form.role.data}.", "info")
    return redirect(url_for("admin.index"))


@bp.route(f"/users/<regex('{USERNAME}'):username>/password", methods=["POST"])
@role_required("admin")
def set_password(username: str) -> Any:
    form = PasswordForm()
    if not form.validate_on_submit():
        flash("A password needs at least 8 characters.", "error")
        return redirect(url_for("admin.index"))
    try:
        store().set_password(username, form.password.data or "")
    except NotFound:
        abort(404, description="No such user.")
    except UsageError as exc:
        flash(str(exc), "error")
    else:
        log.info("password set", extra={"user": current_user.username, "account": username})
        flash(f"Password of {username} changed.", "info")
    return redirect(url_for("admin.index"))


@bp.route(f"/users/<regex('{USERNAME}'):username>/remove", methods=["POST"])
@role_required("admin")
def remove_user(username: str) -> Any:
    if not RemoveForm().validate_on_submit():
        abort(400, description="Invalid form.")
    if username == current_user.username:
        flash("You cannot remove your own account.", "error")
        return redirect(url_for("admin.index"))
    try:
        user = store().get_user(username)
        if user.role == "admin" and _admins() <= 1:
            raise UsageError("the last admin cannot be removed")
        store().remove_user(username)
    except NotFound:
        abort(404, description="No such user.")
    except UsageError as exc:
        flash(str(exc), "error")
    else:
        log.info("user removed", extra={"user": current_user.username, "account": username})
        flash(f"User {username} removed.", "info")
    return redirect(url_for("admin.index"))
