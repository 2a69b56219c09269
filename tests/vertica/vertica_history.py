"""Row versions, transactions, epochs and the Ancient History Mark of the test server.

Vertica never overwrites a row: an INSERT adds a row stamped with the epoch its
transaction commits in, a DELETE stamps the row with the epoch of its deletion, and an
UPDATE is a DELETE plus an INSERT. A historical query ``AT EPOCH n`` sees the rows
inserted at or before ``n`` and not deleted at or before ``n``; the rows a later
transaction deleted or updated are still seen as they were at ``n``. History older than
the Ancient History Mark (AHM) may be purged, so Vertica refuses ``AT EPOCH`` before it.

Here every user table carries four hidden columns (:data:`vertica_catalog.HIDDEN`):

``__epoch``    the epoch the row's insert committed in (NULL while uncommitted)
``__deleted``  the epoch the row's delete committed in (NULL: live)
``__txn``      the session whose uncommitted insert the row is
``__deltxn``   the session that deleted the row but has not committed

A session sees committed live rows plus its own uncommitted changes; others do not see
them until COMMIT, which stamps them with the next epoch (one epoch per commit that
changed data, as in Vertica). ROLLBACK, or the session ending, throws them away.
``MAKE_AHM_NOW()`` / ``SET_AHM_EPOCH(n)`` advance the AHM and purge the row versions
deleted at or before it; ``AT EPOCH`` older than the AHM then fails with Vertica's error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vertica_catalog import q
from vertica_sqltext import Unsupported, find_keyword, leading_name, split_top

#: Vertica's refusal of a historical query before the AHM (its message text; the
#: SQLSTATE and error code are the test server's, see the README's Vertica section)
AHM_MESSAGE = "Can't run historical queries at epochs prior to the Ancient History Mark"
AHM_SQLSTATE, AHM_CODE = "22V03", 3566


@dataclass
class SessionState:
    """What the engine knows about one client session."""

    user: str
    sid: int
    autocommit: bool = True
    #: tables with uncommitted changes of this session: (schema, name)
    touched: set[tuple[str, str]] = field(default_factory=set)
    #: (accepted, rejected) rows of the session's last COPY
    last_copy: tuple[int, int] = (0, 0)


def visible(session: SessionState | None, epoch: int | None) -> str:
    """The WHERE condition selecting the row versions a query sees."""
    if epoch is not None:
        return f"__epoch <= {int(epoch)} AND (__deleted IS NULL OR __deleted > {int(epoch)})"
    sid = session.sid if session is not None else -1
    return f"(__epoch IS NOT NULL OR __txn = {sid}) AND __deleted IS NULL AND (__deltxn IS NULL OR __deltxn <> {sid})"


class History:
    """Epochs, the AHM and the DML statements, on the engine's DuckDB connection."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.epoch = 1  # the current (open) epoch
        self.ahm = 0

    @property
    def db(self) -> Any:
        return self.engine.db

    # ------------------------------------------------------------------ epochs
    def check_epoch(self, epoch: int) -> None:
        from vertica_engine import SqlError

        if epoch >= self.epoch:
            raise SqlError("22V03", f"Epoch number out of range: {epoch}", 4300)
        if epoch < self.ahm:
            raise SqlError(AHM_SQLSTATE, AHM_MESSAGE, AHM_CODE)

    def advance(self) -> int:
        """Close the current epoch (a commit that changed data); return the closed one."""
        closed = self.epoch
        self.epoch += 1
        self.engine.sync_system()
        return closed

    def set_ahm(self, epoch: int | None) -> str:
        """``MAKE_AHM_NOW()`` (None: the last closed epoch) or ``SET_AHM_EPOCH(n)``."""
        from vertica_engine import SqlError

        target = self.epoch - 1 if epoch is None else int(epoch)
        if target >= self.epoch or target < self.ahm:
            raise SqlError("22023", f"Invalid epoch {target} for the AHM (must be in [{self.ahm}, {self.epoch - 1}])")
        self.ahm = target
        for schema, name in self.engine.tables:
            self.db.execute(f"DELETE FROM {q(schema)}.{q(name)} WHERE __deleted <= ?", [target])
        self.engine.sync_system()
        return f"AHM set (New AHM Epoch: {target})"

    # ------------------------------------------------------------------ transactions
    def commit(self, session: SessionState) -> None:
        if not session.touched:
            return
        closed = self.epoch
        for schema, name in sorted(session.touched):
            if (schema, name) not in self.engine.tables:
                continue
            t = f"{q(schema)}.{q(name)}"
            self.db.execute(f"UPDATE {t} SET __epoch = ?, __txn = NULL WHERE __txn = ?", [closed, session.sid])
            self.db.execute(f"UPDATE {t} SET __deleted = ?, __deltxn = NULL WHERE __deltxn = ?", [closed, session.sid])
        touched, session.touched = session.touched, set()
        self.advance()
        for key in touched:
            self.engine.refresh_storage(*key)

    def rollback(self, session: SessionState) -> None:
        for schema, name in sorted(session.touched):
            if (schema, name) not in self.engine.tables:
                continue
            t = f"{q(schema)}.{q(name)}"
            self.db.execute(f"DELETE FROM {t} WHERE __txn = ?", [session.sid])
            self.db.execute(f"UPDATE {t} SET __deltxn = NULL WHERE __deltxn = ?", [session.sid])
        session.touched = set()

    def done(self, session: SessionState, key: tuple[str, str]) -> None:
        """A data change of ``session`` on ``key``: commit it now in autocommit mode."""
        session.touched.add(key)
        if session.autocommit:
            self.commit(session)

    # ------------------------------------------------------------------ DML
    def insert(self, sql: str, session: SessionState) -> int:
        """``INSERT INTO s.t [(cols)] {SELECT ... | VALUES (...)}``: rows inserted."""
        (schema, name), rest = leading_name(re.sub(r"^\s*INSERT\s+(?:/\*.*?\*/\s*)?INTO\s+", "", sql, flags=re.I))
        tid = self.engine.table_id(schema, name)
        self.engine.privileges.check_table(session.user, tid, schema, name, "INSERT")
        cols = [c.name for c in self.engine.tables[(schema, name)].columns]
        rest = rest.strip()
        if rest.startswith("("):
            end = rest.index(")")
            from vertica_sqltext import ident

            cols = [ident(c) for c in split_top(rest[1:end])]
            rest = rest[end + 1 :].strip()
        query = self.engine.rewrite(rest, session, None)
        collist = ", ".join(q(c) for c in cols)
        n = self._count(
            f"INSERT INTO {q(schema)}.{q(name)} ({collist}, __txn) SELECT *, {session.sid} FROM ({query}) AS __src"
        )
        self.done(session, (schema, name))
        return n

    def delete(self, sql: str, session: SessionState) -> int:
        (schema, name), rest = leading_name(re.sub(r"^\s*DELETE\s+FROM\s+", "", sql, flags=re.I))
        tid = self.engine.table_id(schema, name)
        self.engine.privileges.check_table(session.user, tid, schema, name, "DELETE")
        cond = self._where(rest, session)
        n = self._count(
            f"UPDATE {q(schema)}.{q(name)} SET __deltxn = {session.sid} WHERE {visible(session, None)} AND ({cond})"
        )
        self.done(session, (schema, name))
        return n

    def update(self, sql: str, session: SessionState) -> int:
        (schema, name), rest = leading_name(re.sub(r"^\s*UPDATE\s+", "", sql, flags=re.I))
        tid = self.engine.table_id(schema, name)
        self.engine.privileges.check_table(session.user, tid, schema, name, "UPDATE")
        rest = rest.strip()
        if not rest.upper().startswith("SET"):
            raise Unsupported("UPDATE without SET")
        where = find_keyword(rest, "WHERE")
        sets_text = rest[3:where] if where >= 0 else rest[3:]
        cond = self._where(rest[where:] if where >= 0 else "", session)
        sets: dict[str, str] = {}
        for item in split_top(sets_text):
            col, _, expr = item.partition("=")
            from vertica_sqltext import ident

            sets[ident(col)] = self.engine.rewrite(expr, session, None)
        cols = [c.name for c in self.engine.tables[(schema, name)].columns]
        unknown = set(sets) - set(cols)
        if unknown:
            from vertica_engine import SqlError

            raise SqlError("42703", f'Column "{sorted(unknown)[0]}" does not exist', 2624)
        t = f"{q(schema)}.{q(name)}"
        new = ", ".join(f"{sets[c]} AS {q(c)}" if c in sets else q(c) for c in cols)
        collist = ", ".join(q(c) for c in cols)
        with self.engine.transaction():
            self.db.execute(
                f"CREATE TEMP TABLE __adu_upd AS SELECT rowid AS rid FROM {t}"
                f" WHERE {visible(session, None)} AND ({cond})"
            )
            try:
                self.db.execute(
                    f"INSERT INTO {t} ({collist}, __txn) SELECT {new}, {session.sid} FROM {t}"
                    " WHERE rowid IN (SELECT rid FROM __adu_upd)"
                )
                n = self._count(f"UPDATE {t} SET __deltxn = {session.sid} WHERE rowid IN (SELECT rid FROM __adu_upd)")
            finally:
                self.db.execute("DROP TABLE __adu_upd")
        self.done(session, (schema, name))
        return n

    def _where(self, rest: str, session: SessionState) -> str:
        rest = rest.strip()
        if not rest:
            return "true"
        if not rest.upper().startswith("WHERE"):
            raise Unsupported(f"cannot read {rest[:40]!r}")
        return self.engine.rewrite(rest[5:], session, None)

    def _count(self, sql: str) -> int:
        """Run a DuckDB INSERT/UPDATE/DELETE and return the rows it changed."""
        res = self.db.execute(sql).fetchone()
        return int(res[0]) if res else 0
