"""The SQL side of the Vertica test server: DuckDB holding the tables, Vertica's rules on top.

Statements are dispatched to small modules: :mod:`vertica_ddl` (CREATE/DROP/ALTER ...
RENAME), :mod:`vertica_history` (INSERT/UPDATE/DELETE, transactions, epochs, the AHM),
:mod:`vertica_privileges` (users, GRANT/REVOKE, permission checks), and the wire's
:mod:`vertica_copy` (COPY). Everything else is a query: each reference to a user table
is rewritten into a sub-select of the row versions the session may see (the latest
committed ones plus its own, or those of ``AT EPOCH n``), and DuckDB runs it.

Minimal Vertica-isms are translated: the ``AT EPOCH`` prefix, ``HASH(...)`` (a DuckDB
macro returning a value in [0, 2^63) as Vertica's does), ``ST_AsText``, ``QUOTE_IDENT``,
``HAS_TABLE_PRIVILEGE``, and the meta-functions ``MAKE_AHM_NOW()``, ``SET_AHM_EPOCH(n)``,
``GET_AHM_EPOCH()``, ``GET_NUM_ACCEPTED_ROWS()`` and ``GET_NUM_REJECTED_ROWS()``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import vertica_catalog as cat
import vertica_ddl
from vertica_catalog import q
from vertica_history import History, SessionState, visible
from vertica_privileges import Denied, Privileges
from vertica_sqltext import Unsupported
from vertica_types import VType, from_duckdb, parse_type


@dataclass
class ColumnDef:
    name: str
    type: str
    nullable: bool = True


@dataclass
class TableDef:
    """A test table: what the fixture creates in the fake server or with real DDL."""

    schema: str
    name: str
    columns: list[ColumnDef]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    segmented_by: tuple[str, ...] | None = None  # None: UNSEGMENTED ALL NODES

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def ddl(self) -> str:
        """Real Vertica DDL for this table (identifiers quoted)."""
        cols = [f"{q(c.name)} {parse_type(c.type).sql()}{'' if c.nullable else ' NOT NULL'}" for c in self.columns]
        if self.primary_key:
            cols.append("PRIMARY KEY (" + ", ".join(q(c) for c in self.primary_key) + ")")
        seg = (
            "SEGMENTED BY HASH(" + ", ".join(q(c) for c in self.segmented_by) + ") ALL NODES"
            if self.segmented_by
            else "UNSEGMENTED ALL NODES"
        )
        return f"CREATE TABLE {q(self.schema)}.{q(self.name)} ({', '.join(cols)}) {seg}"


class SqlError(Exception):
    """An error the server reports as an ErrorResponse."""

    def __init__(self, sqlstate: str, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.code = code


@dataclass
class ResultColumn:
    name: str
    vtype: VType
    table_id: int = 0
    schema: str | None = None
    table: str | None = None
    nullable: bool = True


_AT_EPOCH = re.compile(r"^\s*AT\s+EPOCH\s+(LATEST|\d+)\s+", re.IGNORECASE)
_HASH = re.compile(r"\bHASH\s*\(", re.IGNORECASE)
_HAS_PRIV = re.compile(r"\bHAS_TABLE_PRIVILEGE\s*\(", re.IGNORECASE)
_TXN = re.compile(r"^\s*(SET|COMMIT|ROLLBACK|BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)
_META_CALL = r"(MAKE_AHM_NOW|SET_AHM_EPOCH|GET_AHM_EPOCH|GET_NUM_ACCEPTED_ROWS|GET_NUM_REJECTED_ROWS)\s*\(\s*(\d*)\s*\)"
_META = re.compile(rf"^\s*SELECT\s+{_META_CALL}(?:\s*,\s*{_META_CALL})*\s*$", re.IGNORECASE)
_DML = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Engine:
    """DuckDB with the test tables, a v_catalog mirror, row versions, users and privileges."""

    def __init__(self, node_names: Sequence[str] = ("v_test_node0001",), *, superuser: str = "dbadmin") -> None:
        self.db = duckdb.connect(":memory:")
        self.db.execute(cat.CATALOG_DDL)
        self.lock = threading.RLock()
        self.tables: dict[tuple[str, str], TableDef] = {}
        self.table_ids: dict[tuple[str, str], int] = {}
        self.vtypes: dict[tuple[str, str], dict[str, VType]] = {}
        self.schemas: dict[str, int] = {}
        self.node_names = list(node_names)
        self._next_id = 45035996273704960  # Vertica object ids are large
        self.history = History(self)
        self.privileges = Privileges(users={}, superusers={superuser})
        self.superuser = superuser
        #: a session for the test API (inserts committed at once, as superuser)
        self.api = SessionState(user=superuser, sid=0)
        for i, n in enumerate(self.node_names):
            self.db.execute("INSERT INTO v_catalog.nodes VALUES (?, ?, 'UP', '127.0.0.1', '127.0.0.1')", [i, n])
        self.db.execute("UPDATE v_monitor.system SET node_count = ?", [len(self.node_names)])
        self.sync_privileges()

    @property
    def epoch(self) -> int:
        """The current (open) epoch."""
        return self.history.epoch

    # ------------------------------------------------------------------ bookkeeping
    def _id(self) -> int:
        self._next_id += 2
        return self._next_id

    def table_id(self, schema: str, name: str) -> int:
        tid = self.table_ids.get((schema, name))
        if tid is None:
            raise SqlError("42V01", f'Table "{schema}.{name}" does not exist', 4566)
        return tid

    def sync_system(self) -> None:
        cat.set_epochs(self.db, current=self.history.epoch, ahm=self.history.ahm)

    def sync_privileges(self) -> None:
        self.privileges.sync(self.db, {tid: key for key, tid in self.table_ids.items()})

    def refresh_storage(self, schema: str, name: str) -> None:
        cat.refresh_storage(
            self.db,
            table_id=self.table_ids[(schema, name)],
            schema=schema,
            name=name,
            nodes=self.node_names,
            segmented=bool(self.tables[(schema, name)].segmented_by),
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One DuckDB transaction on the engine's connection (all or nothing)."""
        self.db.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ test table API
    def ensure_schema(self, schema: str) -> None:
        if schema not in self.schemas:
            sid = self._id()
            self.schemas[schema] = sid
            self.db.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
            self.db.execute("INSERT INTO v_catalog.schemata VALUES (?, ?, ?, false)", [sid, schema, self.superuser])

    def create_table(self, t: TableDef, *, owner: str | None = None) -> None:
        with self.lock:
            self.ensure_schema(t.schema)
            vts = cat.column_types(t.columns)
            cols = ", ".join(f"{q(c.name)} {vts[c.name].storage()}" for c in t.columns)
            self.db.execute(f"CREATE TABLE {q(t.schema)}.{q(t.name)} ({cols}{cat.HIDDEN_DDL})")
            tid = self._id()
            key = (t.schema, t.name)
            self.tables[key], self.table_ids[key], self.vtypes[key] = t, tid, vts
            cat.register_table(
                self.db,
                schema_id=self.schemas[t.schema],
                table_id=tid,
                ids=[self._id(), self._id()],
                t=t,
                vts=vts,
                owner=owner or self.superuser,
            )
            self.privileges.created(tid, owner or self.superuser)
            self.sync_privileges()
            self.refresh_storage(t.schema, t.name)
        if t.rows:
            self.insert(t.schema, t.name, t.rows)

    def drop_table(self, schema: str, name: str) -> None:
        with self.lock:
            tid = self.table_ids.pop((schema, name))
            self.tables.pop((schema, name))
            self.vtypes.pop((schema, name))
            self.db.execute(f"DROP TABLE {q(schema)}.{q(name)}")
            cat.unregister_table(self.db, tid, schema, name)
            self.privileges.dropped(tid)
            self.sync_privileges()

    def rename_tables(self, olds: list[tuple[str, str]], news: list[str]) -> None:
        """Rename every table or none (Vertica's ``ALTER TABLE a, b RENAME TO x, y``)."""
        with self.lock:
            final = dict(self.tables)
            moving = [(old, (old[0], new)) for old, new in zip(olds, news, strict=True)]
            for old, _ in moving:
                final.pop(old)
            for old, new in moving:
                if new in final:
                    raise SqlError("42P07", f'Object "{new[1]}" already exists', 4213)
                final[new] = replace(self.tables[old], name=new[1])
            temps = [(old, new, f"__adu_rename_{i}") for i, (old, new) in enumerate(moving)]
            with self.transaction():  # via unique temporary names, so swaps work
                for (schema, name), _, tmp in temps:
                    self.db.execute(f"ALTER TABLE {q(schema)}.{q(name)} RENAME TO {q(tmp)}")
                for (schema, _), (_, new), tmp in temps:
                    self.db.execute(f"ALTER TABLE {q(schema)}.{q(tmp)} RENAME TO {q(new)}")
                for old, _, tmp in temps:  # catalog rows: the same two steps
                    cat.rename_table(self.db, self.table_ids[old], old[0], old[1], tmp)
                for old, new, tmp in temps:
                    cat.rename_table(self.db, self.table_ids[old], old[0], tmp, new[1])
            ids = {new: self.table_ids[old] for old, new in moving}
            vts = {new: self.vtypes[old] for old, new in moving}
            for old, _ in moving:
                del self.table_ids[old], self.vtypes[old]
            self.table_ids.update(ids)
            self.vtypes.update(vts)
            self.tables = final
            self.sync_privileges()

    def create_view(self, schema: str, name: str, select_sql: str, columns: list[ColumnDef]) -> None:
        """A view over test tables (Vertica lists its columns in ``v_catalog.view_columns``)."""
        with self.lock:
            self.db.execute(f"CREATE VIEW {q(schema)}.{q(name)} AS {self.rewrite(select_sql, self.api, None)}")
            vid = self._id()
            self.db.execute("INSERT INTO v_catalog.views VALUES (?, ?, ?, ?)", [schema, name, vid, select_sql])
            for i, c in enumerate(columns, 1):
                vt = parse_type(c.type)
                self.db.execute(
                    "INSERT INTO v_catalog.view_columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [vid, schema, name, f"{vid}-{i}", c.name, vt.sql(), vt.oid(), i],
                )

    def insert(self, schema: str, name: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert rows and commit them in the current epoch; return that epoch."""
        import pyarrow as pa

        with self.lock:
            t = self.tables[(schema, name)]
            conv = [self.vtypes[(schema, name)][c.name] for c in t.columns]
            data = [tuple(_store(v, vt) for v, vt in zip(r, conv, strict=True)) for r in rows]
            arrays = {f"c{i}": pa.array([_arrowable(r[i]) for r in data]) for i in range(len(conv))}
            select = ", ".join(f"CAST(c{i} AS {vt.storage()})" for i, vt in enumerate(conv))
            return self._commit_rows(schema, name, pa.table(arrays) if data else None, select)

    def insert_arrow(self, schema: str, name: str, table: Any) -> int:
        """Bulk insert from an Arrow table whose columns are already in storage form."""
        with self.lock:
            return self._commit_rows(schema, name, table, ", ".join(q(c) for c in table.column_names))

    def insert_sql(self, schema: str, name: str, query: str, params: Sequence[Any] = ()) -> int:
        """Insert the rows of a DuckDB query (in storage form) and commit them; return the epoch."""
        with self.lock:
            epoch = self.epoch
            self.db.execute(
                f"INSERT INTO {q(schema)}.{q(name)} SELECT *, {epoch}, NULL, NULL, NULL FROM ({query}) AS __src",
                list(params),
            )
            self.history.advance()
            self.refresh_storage(schema, name)
            return epoch

    def _commit_rows(self, schema: str, name: str, data: Any, select: str) -> int:
        epoch = self.epoch
        if data is not None:
            self.db.register("__bulk", data)
            try:
                self.db.execute(
                    f"INSERT INTO {q(schema)}.{q(name)} SELECT {select}, {epoch}, NULL, NULL, NULL FROM __bulk"
                )
            finally:
                self.db.unregister("__bulk")
        self.history.advance()
        self.refresh_storage(schema, name)
        return epoch

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, session: SessionState | None = None) -> tuple[list[ResultColumn], Any] | str:
        """Run one statement: ``(columns, arrow RecordBatchReader)`` or a command tag."""
        session = session or self.api
        text = sql.strip().rstrip(";").strip()
        try:
            with self.lock:
                done = self._command(text, session)
            if done is not None:
                return done
            return self._query(text, session)
        except Denied as e:
            raise SqlError("42501", e.message, 4367) from None
        except Unsupported as e:
            raise SqlError("0A000", f"not modelled by the test server: {e}", 0) from None
        except duckdb.Error as e:
            raise _duck_error(e) from None

    def _command(self, text: str, session: SessionState) -> tuple[list[ResultColumn], Any] | str | None:
        m = _TXN.match(text)
        if m:
            word = m.group(1).split()[0].upper()
            if word == "COMMIT":
                self.history.commit(session)
            elif word == "ROLLBACK":
                self.history.rollback(session)
            return word
        if _META.match(text):
            calls = re.findall(_META_CALL, text, re.IGNORECASE)
            return self._scalars([(n.lower(), self._meta(n.upper(), arg, session)) for n, arg in calls])
        tag = self.privileges.statement(text, session.user, self.table_id)
        if tag is not None:
            self.sync_privileges()
            return tag
        tag = vertica_ddl.statement(self, text, session)
        if tag is not None:
            return tag
        m = _DML.match(text)
        if m:
            n = getattr(self.history, m.group(1).lower())(text, session)
            return self._scalar("OUTPUT", n)
        return None

    def _meta(self, name: str, arg: str, session: SessionState) -> Any:
        if name == "MAKE_AHM_NOW":
            return self.history.set_ahm(None)
        if name == "SET_AHM_EPOCH":
            return self.history.set_ahm(int(arg or -1))
        if name == "GET_AHM_EPOCH":
            return self.history.ahm
        accepted, rejected = session.last_copy
        return accepted if name == "GET_NUM_ACCEPTED_ROWS" else rejected

    def _scalar(self, name: str, value: Any) -> tuple[list[ResultColumn], Any]:
        return self._scalars([(name, value)])

    def _scalars(self, values: list[tuple[str, Any]]) -> tuple[list[ResultColumn], Any]:
        """A one-row result of literal values (meta-functions, DML row counts)."""
        cur = self.db.cursor()
        cur.execute("SELECT " + ", ".join(f"? AS c{i}" for i in range(len(values))), [v for _, v in values])
        cols = [
            ResultColumn(n, VType("int") if isinstance(v, int) else VType("varchar", length=65000)) for n, v in values
        ]
        return cols, cur

    def _query(self, text: str, session: SessionState) -> tuple[list[ResultColumn], Any] | str:
        epoch: int | None = None
        m = _AT_EPOCH.match(text)
        if m:
            epoch = self.epoch - 1 if m.group(1).upper() == "LATEST" else int(m.group(1))
            self.history.check_epoch(epoch)
            text = text[m.end() :]
        refs = self._user_tables(text)
        text = self.rewrite(text, session, epoch)
        cur = self.db.cursor()
        try:
            cur.execute(text)
        except duckdb.Error as e:
            cur.close()
            raise _duck_error(e) from None
        if cur.description is None:
            cur.close()
            return "OK"
        return [self._result_column(name, str(dtype), refs) for name, dtype, *_ in cur.description], cur

    def rewrite(self, text: str, session: SessionState, epoch: int | None) -> str:
        """Table references -> sub-selects of visible rows; privileges checked; Vertica-isms."""
        for schema, name in self._user_tables(text):
            tid = self.table_ids[(schema, name)]
            self.privileges.check_table(session.user, tid, schema, name, "SELECT")
            sub = (
                f"(SELECT * EXCLUDE ({', '.join(cat.HIDDEN)}) FROM {q(schema)}.{q(name)}"
                f" WHERE {visible(session, epoch)}) AS {q(name)}"
            )
            text = re.sub(_ref_pattern(schema, name), lambda _m, s=sub: s, text, flags=re.IGNORECASE)
        text = _HASH.sub("vhash(", text)
        return _HAS_PRIV.sub(f"__has_priv('{session.user.replace(chr(39), chr(39) * 2)}', ", text)

    def _user_tables(self, text: str) -> list[tuple[str, str]]:
        return [key for key in self.tables if re.search(_ref_pattern(*key), text, re.IGNORECASE)]

    def _result_column(self, name: str, dtype: str, refs: list[tuple[str, str]]) -> ResultColumn:
        for key in refs:
            vt = self.vtypes[key].get(name)
            if vt is not None and vt.storage().replace(" ", "") == dtype.replace(" ", "").replace('"', ""):
                col = next(c for c in self.tables[key].columns if c.name == name)
                return ResultColumn(name, vt, self.table_ids[key], key[0], key[1], col.nullable)
        return ResultColumn(name, from_duckdb(dtype))


def _duck_error(e: Exception) -> SqlError:
    if isinstance(e, duckdb.CatalogException):
        return SqlError("42V01", _first_line(e), 4566)
    if isinstance(e, duckdb.ParserException):
        return SqlError("42601", _first_line(e), 4856)
    if isinstance(e, duckdb.BinderException):
        return SqlError("42703", _first_line(e), 2624)
    return SqlError("42000", _first_line(e), 0)


def _ref_pattern(schema: str, name: str) -> str:
    """A regular expression matching ``schema.name`` quoted or not."""
    s, n = re.escape(schema), re.escape(name)
    return rf'(?:"{s}"|\b{s}\b)\s*\.\s*(?:"{n}"|\b{n}\b)'


def _arrowable(v: Any) -> Any:
    """Values pyarrow cannot infer (UUID) as text DuckDB casts back."""
    import uuid as _uuid

    if isinstance(v, _uuid.UUID):
        return str(v)
    if isinstance(v, list):  # inside arrays and rows too
        return [_arrowable(x) for x in v]
    if isinstance(v, dict):
        return {k: _arrowable(x) for k, x in v.items()}
    return v


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _store(v: Any, vt: VType) -> Any:
    """A Python value of a test row in the DuckDB storage form of its Vertica type."""
    if v is None:
        return None
    k = vt.kind
    if k == "numeric" and (vt.precision or 0) > 38:  # exact text with the declared scale
        d = decimal.Decimal(str(v)).quantize(
            decimal.Decimal(1).scaleb(-(vt.scale or 0)), context=decimal.Context(prec=2000)
        )
        return f"{d:f}"
    if k == "numeric":
        return decimal.Decimal(str(v))
    if k == "timetz":
        off = v.utcoffset() or dt.timedelta(0)
        return {"t": v.replace(tzinfo=None), "o": int(off.total_seconds())}
    if k == "interval ds":
        return (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds if isinstance(v, dt.timedelta) else int(v)
    if k == "interval ym":
        return int(v)
    if k == "char":
        return str(v).ljust(vt.length or 1)
    if k == "binary":
        return bytes(v).ljust(vt.length or 1, b"\x00")
    if k in ("array", "set"):
        el = vt.element
        assert el is not None
        return [_store(x, el) for x in v]
    if k == "row":
        return {n: _store(v.get(n), t) for n, t in vt.fields}
    return v
