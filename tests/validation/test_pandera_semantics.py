"""The expressions the validator evaluates are the ones pandera's polars backend builds
for the same built-in checks (captured from pandera's registered functions)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from adu_pandera.checks import CheckSpec, builtin_expr, pandera_expr

CASES: list[tuple[str, dict[str, Any]]] = [
    ("equal_to", {"value": 5}),
    ("not_equal_to", {"value": "x"}),
    ("greater_than", {"min_value": decimal.Decimal("0.10")}),
    ("greater_than_or_equal_to", {"min_value": dt.date(2024, 1, 1)}),
    ("less_than", {"max_value": 2.5}),
    ("less_than_or_equal_to", {"max_value": 150}),
    ("in_range", {"min_value": 0, "max_value": 10}),
    ("in_range", {"min_value": 0, "max_value": 10, "include_min": False, "include_max": False}),
    ("isin", {"allowed_values": ["US", "GB"]}),
    ("notin", {"forbidden_values": [1, 2]}),
    ("str_matches", {"pattern": "[a-z]+"}),
    ("str_matches", {"pattern": "^[a-z]+$"}),
    ("str_contains", {"pattern": "@"}),
    ("str_startswith", {"string": "ab"}),
    ("str_endswith", {"string": ".org"}),
    ("str_length", {"min_value": 1, "max_value": 3}),
    ("str_length", {"max_value": 3}),
    ("str_length", {"min_value": 3}),
    ("str_length", {"exact_value": 2}),
]


@pytest.mark.parametrize(("builtin", "kwargs"), CASES)
def test_same_expression_as_pandera(builtin: str, kwargs: dict[str, Any]) -> None:
    spec = CheckSpec("col", builtin, builtin=builtin, kwargs=kwargs)
    theirs = pandera_expr(spec, "col")
    assert theirs is not None, "pandera's built-in no longer builds a polars expression"
    ours = builtin_expr(spec, "col")
    assert theirs.meta.eq(ours) or _same_isin(theirs, ours), (str(theirs), str(ours))


def _same_isin(theirs: Any, ours: Any) -> bool:
    """pandera hands isin/notin a frozenset; the expression is the same up to order, so the
    two are compared by what they compute: on a frame of the values' own type, both must
    evaluate and agree (a frame where both fail tells nothing; where one fails, they differ)."""
    import polars as pl

    values = ["US", "GB", "XX", None, 1, 2, 3]
    frames = [pl.DataFrame({"col": [v for v in values if isinstance(v, t) or v is None]}) for t in (str, int)]
    compared = 0
    for frame in frames:
        results = []
        for expr in (theirs, ours):
            try:
                results.append(frame.select(expr).to_series().to_list())
            except pl.exceptions.PolarsError:
                results.append(None)
        if results == [None, None]:
            continue
        if None in results or results[0] != results[1]:
            return False
        compared += 1
    return compared > 0
