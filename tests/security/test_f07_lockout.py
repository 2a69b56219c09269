"""Finding 7: anyone could lock an admin out with 5 anonymous attempts every 5 minutes,
and a locked account answered 10x faster than an unknown one (an existence oracle).

Now a lockout does not stop an address that signed in to the account before, the
attacker's own address waits exponentially longer, and unknown, locked, blocked and
wrong answers all do the same work: one password hash check (counted, not timed)."""

from __future__ import annotations

import time

import pytest
from adu_core.services import Context, accounts
from adu_core.store import logins
from adu_web.auth import throttle
from flask import Flask
from seckit import PASSWORDS, Client, SecWorld

ADMIN_HOME = {"REMOTE_ADDR": "192.0.2.10"}
ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
STRANGER = {"REMOTE_ADDR": "198.51.100.8"}


def _login(app: Flask, password: str, environ: dict[str, str], user: str = "admin") -> int:
    c = Client(app)
    return c.http.post(
        "/login", data={"username": user, "password": password, "csrf_token": c.token()}, environ_base=environ
    ).status_code


def test_an_anonymous_attacker_cannot_lock_the_admin_out(world: SecWorld, app: Flask) -> None:
    throttle._fails.clear()
    assert _login(app, PASSWORDS["admin"], ADMIN_HOME) == 302  # the admin's usual address
    for _ in range(6):
        assert _login(app, "guess", ATTACKER) == 401
    assert world.store.accounts.get("admin").locked
    assert _login(app, PASSWORDS["admin"], STRANGER) == 401  # locked for unknown addresses...
    assert _login(app, PASSWORDS["admin"], ADMIN_HOME) == 302  # ...not for the admin at home
    # the attacker's address waits, longer after each failure
    with world.store.db.read() as conn:
        row = logins.get(conn, "admin", ATTACKER["REMOTE_ADDR"])
    assert row.failures == 6 and row.blocked_until > time.time()
    assert [logins.backoff(n) for n in (3, 4, 5, 6, 30)] == [0.0, 2.0, 4.0, 8.0, logins.MAX_BACKOFF]


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash check the store makes (the real scrypt check runs)."""
    import adu_core.store.accounts as store_accounts

    calls: list[str] = []
    real = store_accounts.check_password

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(store_accounts, "check_password", counting)
    return calls


def test_every_answer_does_the_same_work(world: SecWorld, hash_checks: list[str]) -> None:
    ctx = Context(world.settings, store=world.store)

    def one(user: str, password: str, address: str) -> object:
        before = len(hash_checks)
        row = accounts.authenticate(ctx, user, password, address=address)
        assert len(hash_checks) == before + 1, (user, address)  # one scrypt check, whatever the case
        return row

    for i in range(5):
        one("operator", "wrong", f"10.9.1.{i}")
    for _ in range(4):
        one("viewer", "wrong", "10.9.0.4")
    answers = {
        "unknown": one("nobody-here", "pw", "10.9.0.1"),
        "wrong": one("admin", "wrong", "10.9.0.2"),
        "locked": one("operator", PASSWORDS["operator"], "10.9.0.3"),
        "blocked": one("viewer", PASSWORDS["viewer"], "10.9.0.4"),
    }
    assert set(answers.values()) == {None}
    # of the same cost: the dummy hash has the parameters of a real one
    assert len({"$".join(h.split("$")[:4]) for h in hash_checks}) == 1
    assert one("admin", PASSWORDS["admin"], "10.9.0.5") is not None
