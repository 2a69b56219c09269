"""The job store: jobs, tables, partitions, events, users and workers.

SQLite by default (WAL mode and a busy timeout, so the web process and several workers
share it safely); PostgreSQL by URL for several hosts. The schema is migrated with Alembic
on open. All times are UNIX seconds (floats).

:class:`Store` is thin: each part lives in its own module, as a mixin over
:class:`~adu_core.store.base.StoreBase` (the engine, write transactions, migrations):

* :mod:`~adu_core.store.jobs`: a job's life cycle (create, claim, heartbeat, reap,
  cancel, finish, retry) and its secret;
* :mod:`~adu_core.store.progress`: the plan, tables and partitions of a job, and the
  buffered writes of a running one (:meth:`Store.record_batch`);
* :mod:`~adu_core.store.events`: a job's event history;
* :mod:`~adu_core.store.workers`: the registered workers;
* :mod:`~adu_core.store.records`: the typed rows and updates they exchange;
* :mod:`~adu_core.store.resilience`: every public method retried through an outage of the
  store (``ADU_STORE_RETRY_SECONDS``), the outage logged once.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import attrs
import sqlalchemy as sa

from adu_core.errors import NotFound, UsageError
from adu_core.passwords import check_password, hash_password
from adu_core.store.events import EventStore
from adu_core.store.jobs import JobStore, new_job_id, worker_identity
from adu_core.store.progress import ProgressStore
from adu_core.store.records import (
    EventRow,
    JobEvent,
    JobRow,
    PartitionRecord,
    PartitionRow,
    ReapedJob,
    TableRow,
    TableUpdate,
    WorkerRow,
)
from adu_core.store.resilience import resilient
from adu_core.store.schema import users
from adu_core.store.workers import WorkerStore

__all__ = [  # besides the users section below
    "EventRow",
    "JobEvent",
    "JobRow",
    "PartitionRecord",
    "PartitionRow",
    "ReapedJob",
    "Store",
    "TableRow",
    "TableUpdate",
    "WorkerRow",
    "new_job_id",
    "worker_identity",
]

ROLES = ("admin", "operator", "viewer")
#: failed logins before an account is locked for :data:`LOCK_SECONDS`.
MAX_FAILED_LOGINS = 5
LOCK_SECONDS = 300.0


@attrs.frozen
class UserRow:
    id: int
    username: str
    role: str
    active: bool
    created_at: float
    last_login_at: float | None
    failed_logins: int
    locked_until: float | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(UserRow)}


@resilient
class Store(JobStore, ProgressStore, EventStore, WorkerStore):
    """Access to the job store.

    :param url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
    :param secret_key: key that encrypts job secrets at rest; without it, jobs cannot
        carry a secret.
    :param migrate: bring the schema to the latest revision on open.
    """

    # ----------------------------------------------------------------- users

    def _user_row(self, r: Any) -> UserRow:
        return UserRow(
            r.id, r.username, r.role, bool(r.active), r.created_at, r.last_login_at, r.failed_logins, r.locked_until
        )

    @staticmethod
    def _check_role(role: str) -> str:
        if role not in ROLES:
            raise UsageError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        return role

    def add_user(self, username: str, password: str, role: str) -> UserRow:
        username = username.strip()
        if not username or len(username) > 128 or any(c.isspace() for c in username):
            raise UsageError("a user name is 1 to 128 characters without spaces")
        if len(password) < 8:
            raise UsageError("a password needs at least 8 characters")
        self._check_role(role)
        with self._tx() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
                raise UsageError(f"user {username!r} already exists")
            conn.execute(
                users.insert().values(
                    username=username, password_hash=hash_password(password), role=role, created_at=time.time()
                )
            )
        return self.get_user(username)

    def get_user(self, username: str) -> UserRow:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if r is None:
            raise NotFound(f"no user {username!r}")
        return self._user_row(r)

    def get_user_by_id(self, user_id: int) -> UserRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        return self._user_row(r) if r is not None else None

    def list_users(self) -> list[UserRow]:
        with self.engine.connect() as conn:
            return [self._user_row(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]

    def remove_user(self, username: str) -> None:
        with self._tx() as conn:
            if conn.execute(users.delete().where(users.c.username == username)).rowcount != 1:
                raise NotFound(f"no user {username!r}")

    def set_role(self, username: str, role: str) -> None:
        self._check_role(role)
        with self._tx() as conn:
            if conn.execute(users.update().where(users.c.username == username).values(role=role)).rowcount != 1:
                raise NotFound(f"no user {username!r}")

    def set_password(self, username: str, password: str) -> None:
        if len(password) < 8:
            raise UsageError("a password needs at least 8 characters")
        with self._tx() as conn:
            res = conn.execute(
                users.update()
                .where(users.c.username == username)
                .values(password_hash=hash_password(password), failed_logins=0, locked_until=None)
            )
            if res.rowcount != 1:
                raise NotFound(f"no user {username!r}")

    def authenticate(self, username: str, password: str) -> UserRow | None:
        """The user when the password is right and the account is not locked.

        After :data:`MAX_FAILED_LOGINS` failures in a row the account is locked for
        :data:`LOCK_SECONDS` (throttling); a wrong name costs the same hashing time.
        """
        now = time.time()
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if r is None:
            check_password(_dummy_hash(), password)
            return None
        if r.locked_until and r.locked_until > now:
            return None
        ok = r.active and check_password(r.password_hash, password)
        with self._tx() as conn:
            if ok:
                conn.execute(
                    users.update()
                    .where(users.c.id == r.id)
                    .values(failed_logins=0, locked_until=None, last_login_at=now)
                )
            else:
                failed = r.failed_logins + 1
                conn.execute(
                    users.update()
                    .where(users.c.id == r.id)
                    .values(
                        failed_logins=failed, locked_until=now + LOCK_SECONDS if failed >= MAX_FAILED_LOGINS else None
                    )
                )
        return self.get_user(username) if ok else None


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
