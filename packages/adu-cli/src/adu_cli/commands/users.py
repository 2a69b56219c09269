"""``adu users``: accounts of the web dashboard, from the shell (the first admin too)."""

from __future__ import annotations

import sys
import time

import click
from adu_core.errors import UsageError
from adu_core.services import accounts

from adu_cli.context import Env, echo_json, handle_errors, pass_env

ROLE = click.Choice(accounts.ROLES)


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
    """Manage dashboard accounts: admin (everything), operator (runs jobs), viewer (reads).

    The last active admin can never be removed, demoted or deactivated.
    """


@group.command(name="add")
@click.argument("name")
@click.option("--role", type=ROLE, required=True, help="admin, operator or viewer.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_env
@handle_errors
def add(env: Env, name: str, role: str, password_stdin: bool) -> None:
    """Create the account NAME (asks for its password unless --password-stdin)."""
    password = _read_password(password_stdin)
    accounts.add_user(env.ctx, name, password, role, actor=env.actor)
    click.echo(f"user {name} added ({role})")


@group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_env
@handle_errors
def list_(env: Env, as_json: bool) -> None:
    """List the accounts (never their passwords)."""
    users = accounts.list_users(env.ctx)
    if as_json:
        echo_json([u.to_dict() for u in users])
        return
    if not users:
        click.echo("no accounts; add one with: adu users add NAME --role admin")
        return
    click.echo(f"{'USER':24} {'ROLE':9} {'LAST SIGN-IN':21} STATE")
    for u in users:
        state = "locked" if u.locked else ("inactive" if not u.active else "ok")
        click.echo(f"{u.username:24} {u.role:9} {_when(u.last_login_at):21} {state}")


@group.command(name="remove")
@click.argument("name")
@pass_env
@handle_errors
def remove(env: Env, name: str) -> None:
    """Delete the account NAME."""
    accounts.remove_user(env.ctx, name, actor=env.actor)
    click.echo(f"user {name} removed")


@group.command(name="set-role")
@click.argument("name")
@click.argument("role", type=ROLE)
@pass_env
@handle_errors
def set_role(env: Env, name: str, role: str) -> None:
    """Give NAME the role ROLE."""
    accounts.set_role(env.ctx, name, role, actor=env.actor)
    click.echo(f"user {name} is now {role}")


@group.command(name="deactivate")
@click.argument("name")
@pass_env
@handle_errors
def deactivate(env: Env, name: str) -> None:
    """Stop NAME from signing in (its sessions end at once); the account is kept."""
    accounts.set_active(env.ctx, name, False, actor=env.actor)
    click.echo(f"user {name} deactivated")


@group.command(name="activate")
@click.argument("name")
@pass_env
@handle_errors
def activate(env: Env, name: str) -> None:
    """Let NAME sign in again."""
    accounts.set_active(env.ctx, name, True, actor=env.actor)
    click.echo(f"user {name} activated")


@group.command(name="set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_env
@handle_errors
def set_password(env: Env, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (also unlocks the account)."""
    accounts.get_user(env.ctx, name)
    accounts.set_password(env.ctx, name, _read_password(password_stdin), actor=env.actor)
    click.echo(f"password of {name} changed")
