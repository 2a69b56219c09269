"""The last-admin rule, enforced once in the store transaction: the last *active* admin
can never be removed, demoted or deactivated, even by two requests at the same moment."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from adu_core.errors import Conflict, NotFound, UsageError
from adu_core.services import Actor, Context, accounts
from adu_core.store import Store
from adu_core.store import accounts as store_accounts

CLI = Actor("tester", "cli")


@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(request: pytest.FixtureRequest, adu_settings) -> Iterator[Context]:
    """A context on a fresh store: SQLite (the default) or PostgreSQL (several hosts)."""
    if request.param == "sqlite":
        store = Store.from_settings(adu_settings)
    else:
        db = request.getfixturevalue("pg_db")
        store = Store(db.dsn.replace("postgresql://", "postgresql+psycopg2://", 1), secret_key="k" * 32)
    try:
        yield Context(adu_settings, store=store)
    finally:
        store.dispose()


def test_the_last_active_admin_stays(ctx: Context) -> None:
    accounts.add_user(ctx, "ann", "ann-password-1", "admin", actor=CLI)
    accounts.add_user(ctx, "old", "old-password-1", "admin", actor=CLI)
    accounts.set_active(ctx, "old", False, actor=CLI)  # two admins, one of them active
    for change in (
        lambda: accounts.remove_user(ctx, "ann", actor=CLI),
        lambda: accounts.set_role(ctx, "ann", "operator", actor=CLI),
        lambda: accounts.set_active(ctx, "ann", False, actor=CLI),
    ):
        with pytest.raises(accounts.LastAdminError, match="last admin"):
            change()
    assert accounts.get_user(ctx, "ann").role == "admin" and accounts.get_user(ctx, "ann").active
    # an inactive admin is not the last active one: it may go
    accounts.remove_user(ctx, "old", actor=CLI)
    # with a second active admin, the first may be demoted
    accounts.add_user(ctx, "bob", "bob-password-1", "admin", actor=CLI)
    accounts.set_role(ctx, "ann", "viewer", actor=CLI)
    assert [u.role for u in accounts.list_users(ctx)] == ["viewer", "admin"]
    with pytest.raises(NotFound):
        accounts.set_role(ctx, "nobody", "viewer", actor=CLI)


def test_a_web_account_cannot_remove_or_deactivate_itself(ctx: Context) -> None:
    accounts.add_user(ctx, "ann", "ann-password-1", "admin", actor=CLI)
    accounts.add_user(ctx, "bob", "bob-password-1", "admin", actor=CLI)
    me = Actor.account("ann")
    with pytest.raises(UsageError, match="your own account"):
        accounts.remove_user(ctx, "ann", actor=me)
    with pytest.raises(UsageError, match="your own account"):
        accounts.set_active(ctx, "ann", False, actor=me)
    accounts.set_active(ctx, "bob", False, actor=me)
    assert accounts.authenticate(ctx, "bob", "bob-password-1") is None  # deactivated: no sign-in


def test_two_concurrent_demotions_of_the_last_two_admins(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request sees two active admins; without one transaction around the check and
    the change both would pass and leave none. The count is held open until the other
    request has counted too (or cannot, because the first holds the lock)."""
    accounts.add_user(ctx, "ann", "ann-password-1", "admin", actor=CLI)
    accounts.add_user(ctx, "bob", "bob-password-1", "admin", actor=CLI)
    both_counted = threading.Barrier(2)
    counted = store_accounts.active_admins

    def slow_count(conn):
        names = counted(conn)
        # a correct rule blocks the other request before it counts, so this wait times
        # out; only an implementation that lets both count gets through it at once
        with contextlib.suppress(threading.BrokenBarrierError):
            both_counted.wait(timeout=1.5)
        return names

    monkeypatch.setattr(store_accounts, "active_admins", slow_count)
    outcomes: dict[str, BaseException | None] = {}

    def demote(name: str) -> None:
        try:
            accounts.set_role(ctx, name, "viewer", actor=Actor.account("other"))
            outcomes[name] = None
        except BaseException as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=demote, args=(n,)) for n in ("ann", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["ann", "bob"]
    failures = [e for e in outcomes.values() if e is not None]
    assert len(failures) == 1 and isinstance(failures[0], Conflict), outcomes
    assert [u.username for u in accounts.list_users(ctx) if u.role == "admin" and u.active] != []
