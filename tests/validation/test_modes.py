"""Failure modes and the exact-count invariant of quarantine mode."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from adu_pandera import PanderaValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_kit import batch_of, people_table, table_validator

RULES = """
{top}
tables:
  public.people:
{mode}
    columns:
      age: {{ge: 0, le: 150}}
      email: {{str_matches: '^[^@]+@[^@]+\\.[a-z]+$'}}
      country: {{isin: [US, GB, DE, FR]}}
      score: {{nullable: false}}
"""


def rules_text(mode: str | None = None, top: str | None = None) -> str:
    return RULES.format(
        top=f"on_failure: {top}" if top else "",
        mode=f"    on_failure: {mode}" if mode else "",
    )


@pytest.mark.parametrize(
    ("mode", "top", "expected"),
    [(None, None, "fail"), ("quarantine", None, "quarantine"), ("warn", "quarantine", "warn"), (None, "warn", "warn")],
)
def test_mode_comes_from_the_table_then_the_file(
    rules_file: Any, mode: str | None, top: str | None, expected: str
) -> None:
    tv = table_validator(people_table(), rules_file(rules_text(mode, top)))
    assert tv.mode == expected


@pytest.mark.parametrize("mode", ["fail", "quarantine", "warn"])
def test_each_mode_reports_the_same_failures(rules_file: Any, mode: str) -> None:
    tv = table_validator(people_table(), rules_file(rules_text(mode)))
    batch = batch_of(
        people_table(),
        {
            "id": [1, 2, 3],
            "age": [10, 200, 20],
            "email": ["a@b.io", "a@b.io", "x"],
            "score": [1.0, 2.0, None],
            "country": ["US", "GB", "FR"],
        },
    )
    verdict = tv.validate(batch)
    assert verdict.failed is not None and verdict.failed.to_pylist() == [False, True, True]
    report = tv.merge([tv.partial()])
    assert report.mode == mode
    assert report.failed_rows == 2
    assert report.quarantined_rows == (2 if mode == "quarantine" else 0)
    assert not report.passed


def test_tables_without_rules_get_inferred_checks_in_fail_mode(rules_file: Any) -> None:
    from adu_core.models import TableInfo

    other = TableInfo("public", "other", columns=people_table().columns)
    v = PanderaValidator({"rules": rules_file(rules_text("warn"))})
    v.check_rules([people_table(), other])
    tv = v.for_table(other)
    assert tv is not None and tv.mode == "fail"
    assert not any(c.startswith("age:ge") for c in tv.checks)


# --------------------------------------------------------------- the exact-count invariant

# \Z: in polars' (Rust) regex syntax "$" is the end of the text, not "before a final newline"
EMAIL = re.compile(r"^[^@]+@[^@]+\.[a-z]+\Z")
COUNTRIES = {"US", "GB", "DE", "FR"}


def expected_reasons(age: Any, email: Any, country: Any, score: Any) -> list[str]:
    """The oracle, in plain Python: the checks a row breaks, in the validator's order."""
    out = []
    if score is None:
        out.append("score:nullable(false)")
    if age is not None and age < 0:
        out.append("age:ge(0)")
    if age is not None and age > 150:
        out.append("age:le(150)")
    if email is not None and not EMAIL.search(email):
        out.append(r"email:str_matches('^[^@]+@[^@]+\.[a-z]+$')")
    if country is not None and country not in COUNTRIES:
        out.append("country:isin(['US', 'GB', 'DE', 'FR'])")
    return out


row = st.fixed_dictionaries(
    {
        "age": st.one_of(st.none(), st.integers(-5, 155)),
        "email": st.one_of(
            st.none(), st.sampled_from(["a@b.io", "x@y.com", "bad", "a@b", "@b.io", "", "a@b.io\n"]), st.text()
        ),
        "country": st.one_of(st.none(), st.sampled_from(["US", "GB", "DE", "FR", "XX", "us"])),
        "score": st.one_of(st.none(), st.floats(allow_nan=False)),
    }
)
partitions = st.lists(st.lists(st.lists(row, max_size=25), max_size=4), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitions)
def test_good_plus_quarantined_equals_source_rows(rules_file: Any, parts: list[list[list[dict[str, Any]]]]) -> None:
    table = people_table()
    path = rules_file(rules_text("quarantine"))
    coordinator = table_validator(table, path)
    source_rows = good_rows = quarantined_rows = 0
    next_id = 0
    expected_counts: dict[str, int] = {}
    partials = []
    for batches in parts:
        worker = table_validator(table, path)  # each partition gets its own copy
        for rows in batches:
            ids = list(range(next_id, next_id + len(rows)))
            next_id += len(rows)
            cols = {k: [r[k] for r in rows] for k in ("age", "email", "country", "score")}
            batch = batch_of(table, {"id": ids, **cols}) if rows else batch_of(table, {"id": []})
            verdict = worker.validate(batch)
            # route like the engine does
            if verdict.failed is None:
                good, bad, reasons = batch, batch.slice(0, 0), []
            else:
                good = batch.filter(pc.invert(verdict.failed))
                bad = batch.filter(verdict.failed)
                reasons = verdict.reasons.filter(verdict.failed).to_pylist()
                assert len(verdict.reasons) == batch.num_rows
            source_rows += batch.num_rows
            good_rows += good.num_rows
            quarantined_rows += bad.num_rows
            oracle = [expected_reasons(r["age"], r["email"], r["country"], r["score"]) for r in rows]
            assert reasons == [o for o in oracle if o]
            assert good.column("id").to_pylist() == [i for i, o in zip(ids, oracle, strict=True) if not o]
            for o in oracle:
                for key in o:
                    expected_counts[key] = expected_counts.get(key, 0) + 1
        partials.append(worker.partial())
    assert good_rows + quarantined_rows == source_rows
    report = coordinator.merge(partials)
    assert report.failed_rows == quarantined_rows == report.quarantined_rows
    got = {f"{c.column}:{c.check}": c.failed_rows for c in report.checks if c.failed_rows}
    assert got == expected_counts
    for c in report.checks:
        assert len(c.samples) == min(20, c.failed_rows)


def test_an_empty_batch_is_not_an_error() -> None:
    tv = table_validator(people_table())
    empty = pa.RecordBatch.from_pylist([], schema=people_table().arrow_schema())
    assert tv.validate(empty).failed is None
