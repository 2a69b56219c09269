"""Which export of each source a target database holds: ``adu_load_state``.

A chain of repeated transfers (a full export, then deltas) is applied in order only. The
target keeps, per source (the manifest's ``source.url``, never a password), the SHA-256
of the last manifest applied — the *head* row, ``table_name = ''`` — and, per table, the
manifest whose rows it holds last: that row is written in the same transaction as the
table's rows, so a load stopped half-way is completed by loading the same delta again
(the tables it already applied are skipped, never applied twice).

:func:`decide` says what a load of a manifest must do: apply it (a base, or the delta
that continues the head), skip it (the same manifest again: a no-op that says so), or
refuse it (:class:`~adu_postgres.loaderror.LoadError`: a delta whose ``previous`` is not
the head — a gap, a repeat or a swap).
"""

from __future__ import annotations

from typing import Any

import attrs
from psycopg2 import sql

from adu_postgres.loaderror import LoadError

#: the table's name; it lives in :data:`STATE_SCHEMA` unless a load says otherwise
STATE_TABLE = "adu_load_state"
STATE_SCHEMA = "public"
#: ``table_name`` of the head row (the whole manifest)
HEAD = ""


def _ident(schema: str) -> sql.Composable:
    return sql.Identifier(schema, STATE_TABLE)


def ensure_state(cur: Any, schema: str = STATE_SCHEMA) -> None:
    """Create the state table when it is missing (in its own statement: idempotent)."""
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone() is None:  # CREATE SCHEMA needs a right an existing schema does not
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    cur.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (source text NOT NULL, table_name text NOT NULL,"
            " manifest_sha256 text NOT NULL, previous_sha256 text, position integer NOT NULL DEFAULT 0,"
            " job_id text, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, table_name))"
        ).format(_ident(schema))
    )


@attrs.frozen
class Head:
    """The last manifest of a source applied to the target."""

    manifest_sha256: str
    previous_sha256: str | None
    position: int
    job_id: str | None


def head(cur: Any, source: str, schema: str = STATE_SCHEMA) -> Head | None:
    cur.execute(
        sql.SQL(
            "SELECT manifest_sha256, previous_sha256, position, job_id FROM {} WHERE source = %s AND table_name = %s"
        ).format(_ident(schema)),
        (source, HEAD),
    )
    row = cur.fetchone()
    return Head(row[0], row[1], int(row[2]), row[3]) if row else None


@attrs.frozen
class Decision:
    """What loading a manifest does.

    :param apply: False: the manifest is already the head (a no-op; :attr:`message` says so).
    :param done: tables an earlier, interrupted load of the same manifest already applied.
    :param position: the manifest's place in the chain once applied (0: a base).
    """

    apply: bool
    message: str
    position: int = 0
    done: frozenset[str] = frozenset()


def decide(
    cur: Any, source: str, manifest_sha256: str, previous_sha256: str | None, schema: str = STATE_SCHEMA
) -> Decision:
    """Apply, skip or refuse (:class:`LoadError`) the manifest ``manifest_sha256`` of
    ``source`` that continues ``previous_sha256`` (None: a full export, a new base)."""
    ensure_state(cur, schema)
    now = head(cur, source, schema)
    short = manifest_sha256[:16]
    if now is not None and now.manifest_sha256 == manifest_sha256:
        return Decision(
            False,
            f"manifest {short}… is already the last one applied from {source} (position {now.position}): nothing to do",
            now.position,
        )
    if previous_sha256 is None:
        return Decision(True, f"a full export of {source}: a new base", 0, _done(cur, source, manifest_sha256, schema))
    if now is None:
        raise LoadError(
            f"refused: this delta continues manifest {previous_sha256[:16]}…, but the target holds no export of "
            f"{source}: load the full export it starts from first"
        )
    if now.manifest_sha256 != previous_sha256:
        raise LoadError(
            f"refused: this delta continues manifest {previous_sha256[:16]}…, but the last one applied from "
            f"{source} is {now.manifest_sha256[:16]}… (position {now.position}): load the deltas in order "
            "(adu verify D1 D2 ... names a gap, a repeat or a swap)"
        )
    position = now.position + 1
    return Decision(
        True,
        f"delta {position} after manifest {previous_sha256[:16]}…",
        position,
        _done(cur, source, manifest_sha256, schema),
    )


def _done(cur: Any, source: str, manifest_sha256: str, schema: str) -> frozenset[str]:
    cur.execute(
        sql.SQL("SELECT table_name FROM {} WHERE source = %s AND manifest_sha256 = %s AND table_name <> %s").format(
            _ident(schema)
        ),
        (source, manifest_sha256, HEAD),
    )
    return frozenset(str(r[0]) for r in cur.fetchall())


def _upsert(
    cur: Any,
    schema: str,
    source: str,
    table_name: str,
    manifest_sha256: str,
    previous_sha256: str | None,
    position: int,
    job_id: str | None,
) -> None:
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (source, table_name, manifest_sha256, previous_sha256, position, job_id, applied_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (source, table_name) DO UPDATE SET"
            " manifest_sha256 = EXCLUDED.manifest_sha256, previous_sha256 = EXCLUDED.previous_sha256,"
            " position = EXCLUDED.position, job_id = EXCLUDED.job_id, applied_at = now()"
        ).format(_ident(schema)),
        (source, table_name, manifest_sha256, previous_sha256, position, job_id),
    )


def record_table(
    cur: Any, source: str, table_name: str, manifest_sha256: str, position: int, schema: str = STATE_SCHEMA
) -> None:
    """Inside the transaction that publishes a table's rows: the table holds that manifest's."""
    _upsert(cur, schema, source, table_name, manifest_sha256, None, position, None)


def record_head(
    cur: Any,
    source: str,
    manifest_sha256: str,
    previous_sha256: str | None,
    position: int,
    job_id: str | None,
    schema: str = STATE_SCHEMA,
) -> None:
    """Once every table is applied: the manifest is the source's head."""
    _upsert(cur, schema, source, HEAD, manifest_sha256, previous_sha256, position, job_id)
