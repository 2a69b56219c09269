"""``adu users``: accounts of the web dashboard, from the shell (the first admin too)."""

from __future__ import annotations

import sys
import time

import click
from adu_core.errors import UsageError
from adu_core.store import ROLES

from adu_cli.context import Env, echo_json, handle_errors, pass_env

ROLE = click.Choice(ROLES)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UsageError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for a password: use --password-stdin")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts)) if ts else "-"


@click.group(name="users")
def group() -> None:
    """Manage dashboard accounts: admin (everything), operator (runs jobs), viewer (reads)."""


@group.command(name="add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True, help="admin, operator or viewer.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_env
@handle_errors
def add(env: Env, name: str, role: str, password_stdin: bool) -> None:
    """Create the account NAME (asks for its password unless --password-stdin)."""
    password = _read_password(password_stdin)
    env.store.add_user(name, password, role)
    click.echo(f"user {name} added ({role})")


@group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_env
@handle_errors
def list_(env: Env, as_json: bool) -> None:
    """List the accounts (never their passwords)."""
    users = env.store.list_users()
    if as_json:
        echo_json([u.to_dict() for u in users])
        return
    if not users:
        click.echo("no accounts; add one with: adu users add NAME --role admin")
        return
    click.echo(f"{'USER':24} {'ROLE':9} {'LAST SIGN-IN':21} STATE")
    for u in users:
        state = "locked" if u.locked_until and u.locked_until > time.time() else ("inactive" if not u.active else "ok")
        click.echo(f"{u.username:24} {u.role:9} {_when(u.last_login_at):21} {state}")


@group.command(name="remove")
@click.argument("name")
@pass_env
@handle_errors
def remove(env: Env, name: str) -> None:
    """Delete the account NAME."""
    users = env.store.list_users()
    if any(u.username == name and u.role == "admin" for u in users) and sum(u.role == "admin" for u in users) == 1:
        raise UsageError("refusing to remove the last admin")
    env.store.remove_user(name)
    click.echo(f"user {name} removed")


@group.command(name="set-role")
@click.argument("name")
@click.argument("role", type=ROLE)
@pass_env
@handle_errors
def set_role(env: Env, name: str, role: str) -> None:
    """Give NAME the role ROLE."""
    users = env.store.list_users()
    if (
        role != "admin"
        and any(u.username == name and u.role == "admin" for u in users)
        and sum(u.role == "admin" for u in users) == 1
    ):
        raise UsageError("refusing to take the admin role from the last admin")
    env.store.set_role(name, role)
    click.echo(f"user {name} is now {role}")


@group.command(name="set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_env
@handle_errors
def set_password(env: Env, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (also unlocks the account)."""
    env.store.get_user(name)
    env.store.set_password(name, _read_password(password_stdin))
    click.echo(f"password of {name} changed")
