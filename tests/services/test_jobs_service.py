"""Jobs through the services layer: a job is run in the foreground only when this
process claims it, and every change records who asked."""

from __future__ import annotations

import pytest
from adu_core.errors import Conflict, NotFound
from adu_core.models import JobSpec
from adu_core.services import Actor, Context, jobs, running


@pytest.fixture
def ctx(adu_store, adu_settings) -> Context:
    return Context(adu_settings, store=adu_store)


def _spec(tmp_path) -> JobSpec:
    return JobSpec(source="duckdb:///nowhere.duckdb", target=str(tmp_path / "out"))


def test_a_job_another_worker_claimed_is_not_run_twice(ctx: Context, tmp_path) -> None:
    job_id = jobs.submit(ctx, _spec(tmp_path), actor=Actor("tester", "cli"))
    assert ctx.store.claim_job("another-worker", job_id=job_id) is not None
    with pytest.raises(Conflict, match="cannot start here: it is running"):
        running.run_here(ctx, job_id)
    assert jobs.get(ctx, job_id).worker_id == "another-worker"  # untouched


def test_cancel_and_retry_record_who_asked(ctx: Context, tmp_path) -> None:
    job_id = jobs.submit(ctx, _spec(tmp_path), actor=Actor("ann", "notebook"))
    jobs.cancel(ctx, job_id, actor=Actor("bob", "cli"))
    with pytest.raises(Conflict, match="already finished"):
        jobs.cancel(ctx, job_id, actor=Actor("bob", "cli"))
    jobs.retry(ctx, job_id, actor=Actor.account("carol", api=True))
    with pytest.raises(Conflict, match="still queued"):
        jobs.retry(ctx, job_id, actor=Actor.account("carol"))
    with pytest.raises(NotFound):
        jobs.cancel(ctx, "0" * 32, actor=Actor("bob", "cli"))
    audit = [e.data for e in jobs.events(ctx, job_id) if e.data and "action" in e.data]
    assert audit == [
        {"action": "submit", "by": "ann", "via": "notebook"},
        {"action": "cancel", "by": "bob", "via": "cli"},
        {"action": "retry", "by": "carol", "via": "api"},
    ]
