"""Users and privileges of the test server, as Vertica checks them.

Modelled: superusers (the cluster's first user, like ``dbadmin``), ``CREATE USER ...
IDENTIFIED BY``, ``DROP USER``, ``GRANT``/``REVOKE`` of table privileges (SELECT, INSERT,
UPDATE, DELETE, ALL) and schema privileges (USAGE, CREATE, ALL). A table's creator owns
it (all privileges). Using a table needs USAGE on its schema and the statement's
privilege on the table; creating one needs CREATE on the schema. A refusal is Vertica's
``ERROR 4367: Permission denied for relation <table>`` (or ``for schema <schema>``),
SQLSTATE 42501. ``HAS_TABLE_PRIVILEGE`` answers from the same state (through the
``__adu_privs`` table the engine's macro reads).

Not modelled: roles, inherited privileges, column privileges; ``v_catalog`` shows every
table to every user (Vertica hides tables a user has no privilege on at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from vertica_sqltext import QUALIFIED, Unsupported, ident, qualified_name, split_top

TABLE_PRIVS = ("SELECT", "INSERT", "UPDATE", "DELETE")
SCHEMA_PRIVS = ("USAGE", "CREATE")

_GRANT = re.compile(
    r"^\s*(GRANT|REVOKE)\s+(.+?)\s+ON\s+(SCHEMA\s+|TABLE\s+)?(.+?)\s+(TO|FROM)\s+(.+?)\s*(CASCADE)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CREATE_USER = re.compile(r"^\s*CREATE\s+USER\s+(\S+)(?:\s+IDENTIFIED\s+BY\s+'((?:[^']|'')*)')?\s*$", re.IGNORECASE)
_DROP_USER = re.compile(r"^\s*DROP\s+USER\s+(IF\s+EXISTS\s+)?(\S+?)(\s+CASCADE)?\s*$", re.IGNORECASE)


class Denied(Exception):
    """Vertica's permission error (the engine turns it into an ErrorResponse 42501)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Permission denied for {what}")
        self.message = f"Permission denied for {what}"


@dataclass
class Privileges:
    users: dict[str, str]
    superusers: set[str] = field(default_factory=set)
    owners: dict[int, str] = field(default_factory=dict)
    table_grants: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    schema_grants: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ checks
    def check_table(self, user: str, table_id: int, schema: str, name: str, priv: str) -> None:
        if user in self.superusers or self.owners.get(table_id) == user:
            return
        self.check_schema(user, schema, "USAGE")
        if priv not in self.table_grants.get(table_id, {}).get(user, set()):
            raise Denied(f"relation {name}")

    def check_schema(self, user: str, schema: str, priv: str) -> None:
        if user in self.superusers:
            return
        if priv not in self.schema_grants.get(schema, {}).get(user, set()):
            raise Denied(f"schema {schema}")

    def check_owner(self, user: str, table_id: int, name: str) -> None:
        if user not in self.superusers and self.owners.get(table_id) != user:
            raise Denied(f"relation {name}")

    # ------------------------------------------------------------------ life cycle
    def created(self, table_id: int, owner: str) -> None:
        self.owners[table_id] = owner
        self.table_grants[table_id] = {}

    def dropped(self, table_id: int) -> None:
        self.owners.pop(table_id, None)
        self.table_grants.pop(table_id, None)

    def like(self, table_id: int, owner: str) -> None:
        """``CREATE TABLE ... LIKE``: a new object, owned by its creator, no grants."""
        self.created(table_id, owner)

    def sync(self, db: Any, names: dict[int, tuple[str, str]]) -> None:
        """Rebuild the tables ``HAS_TABLE_PRIVILEGE`` reads (names: table id -> (schema, name))."""
        from vertica_catalog import qualified

        db.execute("DELETE FROM __adu_privs")
        db.execute("DELETE FROM __adu_superusers")
        for u in self.superusers:
            db.execute("INSERT INTO __adu_superusers VALUES (?)", [u])
        rows = []
        for tid, (schema, name) in names.items():
            usage = {u for u, p in self.schema_grants.get(schema, {}).items() if "USAGE" in p}
            owner = self.owners.get(tid)
            for priv in TABLE_PRIVS:
                if owner:
                    rows.append((owner, qualified(schema, name), priv))
                for u, privs in self.table_grants.get(tid, {}).items():
                    if priv in privs and u in usage and u != owner:
                        rows.append((u, qualified(schema, name), priv))
        if rows:
            db.executemany("INSERT INTO __adu_privs VALUES (?, ?, ?)", rows)

    # ------------------------------------------------------------------ statements
    def statement(self, sql: str, user: str, lookup: Any) -> str | None:
        """Run a user/grant statement; return its command tag, or None when it is not one.

        ``lookup(schema, name)`` gives a table id (raising the engine's error if none).
        """
        m = _CREATE_USER.match(sql)
        if m:
            self.require_superuser(user)
            name = ident(m.group(1))
            if name in self.users:
                raise Unsupported(f"user {name} already exists")
            self.users[name] = (m.group(2) or "").replace("''", "'")
            return "CREATE USER"
        m = _DROP_USER.match(sql)
        if m:
            self.require_superuser(user)
            name = ident(m.group(2))
            if name not in self.users and not m.group(1):
                raise Unsupported(f"user {name} does not exist")
            self.users.pop(name, None)
            for grants in [*self.table_grants.values(), *self.schema_grants.values()]:
                grants.pop(name, None)
            return "DROP USER"
        m = _GRANT.match(sql)
        if not m:
            return None
        verb, privs_text, on_schema, objects, _, grantees = m.groups()[:6]
        grant = verb.upper() == "GRANT"
        allowed = SCHEMA_PRIVS if on_schema and on_schema.strip().upper() == "SCHEMA" else TABLE_PRIVS
        privs = {p.strip().upper() for p in privs_text.split(",")}
        if privs & {"ALL", "ALL PRIVILEGES"}:
            privs = set(allowed)
        if not privs <= set(allowed):
            raise Unsupported(f"privilege(s) {', '.join(sorted(privs - set(allowed)))} are not modelled here")
        users = [ident(u) for u in split_top(grantees)]
        for u in users:
            if u not in self.users:
                raise Unsupported(f"user {u} does not exist")
        if allowed is SCHEMA_PRIVS:
            self.require_superuser(user)
            for s in split_top(objects):
                self._apply(self.schema_grants.setdefault(ident(s), {}), users, privs, grant)
            return verb.upper()
        for obj in split_top(objects):
            if not re.fullmatch(QUALIFIED, obj.strip()):
                raise Unsupported(f"cannot read the table name {obj!r}")
            schema, name = qualified_name(obj)
            tid = lookup(schema, name)
            self.check_owner(user, tid, name)
            self._apply(self.table_grants.setdefault(tid, {}), users, privs, grant)
        return verb.upper()

    def require_superuser(self, user: str) -> None:
        if user not in self.superusers:
            raise Denied("this operation (superuser only)")

    @staticmethod
    def _apply(grants: dict[str, set[str]], users: list[str], privs: set[str], grant: bool) -> None:
        for u in users:
            have = grants.setdefault(u, set())
            if grant:
                have |= privs
            else:
                have -= privs
