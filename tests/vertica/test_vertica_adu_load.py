"""``adu load DIR vertica://…``: the load job (export source, verification, the Vertica
load sink, vertica-python's COPY FROM STDIN NATIVE) end to end. Proven against the
wire-protocol test server only (no real Vertica runs in CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from adu_core.engine import submit_and_run
from adu_core.models import JobSpec, JobStatus, TableSelection
from adu_core.secrets import url_password
from adu_core.services import loads
from adu_core.services.context import Actor, Context
from test_vertica_load import TEXT_KEPT, _read
from vertica_tables import SCHEMA, big_table, types_table
from vertica_wire import VerticaTestServer


def test_adu_load_into_vertica_through_the_load_job(
    fresh_server: VerticaTestServer, tmp_path: Path, adu_store: Any, adu_settings: Any
) -> None:
    fresh_server.engine.create_table(types_table())
    fresh_server.engine.create_table(big_table())
    url = fresh_server.url()
    out = tmp_path / "out"
    spec = JobSpec(
        source=url,
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=(f"{SCHEMA}.all_types", f"{SCHEMA}.events")),
    )
    assert (
        submit_and_run(adu_store, spec, password=url_password(url), settings=adu_settings).status == JobStatus.SUCCEEDED
    )

    ctx = Context(adu_settings, store=adu_store)
    load = loads.load_spec(ctx, out, url, schema_map={SCHEMA: "far"}, parallel=2)
    result = loads.load(ctx, load, actor=Actor.local("notebook"))
    assert result.status == JobStatus.SUCCEEDED, result.error
    assert {t.qualified_name: t.rows for t in result.tables} == {f"{SCHEMA}.all_types": 4, f"{SCHEMA}.events": 20_000}
    job = adu_store.get_job(result.job_id)
    assert job.kind == "load"
    entry = {t.qualified_name: t.entry for t in adu_store.list_tables(result.job_id)}
    assert set(entry[f"{SCHEMA}.all_types"]["loaded"]["text_columns"]) == set(TEXT_KEPT)
    back, _types = _read(url, "far", "events")
    assert back.equals(pq.read_table(out / SCHEMA / "events").sort_by("id"), check_metadata=False)
    # the same load again: the tables exist (--if-exists fail): refused, nothing changed
    again = loads.load(ctx, load, actor=Actor.local("notebook"))
    assert again.status == JobStatus.FAILED
    assert all("already exists" in (t.error.message if t.error else "") for t in again.tables)
    assert sorted(name for s, name in fresh_server.engine.tables if s == "far") == ["all_types", "events"]
