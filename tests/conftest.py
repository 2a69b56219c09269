"""Test-wide fixtures and rules.

* The throwaway PostgreSQL cluster (tests/pgserver.py) and adu_core.testing (loaded by
  pytest's -p option in pyproject.toml).
* No skip in CI: with ``CI`` set (``.ci/run``), a skipped test fails — CI installs every
  tool the tests need, so a skip there hides a broken set-up — except the short
  :data:`ALLOWED_SKIPS`, each printed at the end of the run with its reason.
* Hypothesis never has a per-example deadline (it flakes on a busy 2-core machine).
"""

from __future__ import annotations

import os
from typing import Any

from adu_core.late_numpy import install

# as in the ``adu`` console script: pyarrow without numpy until something imports numpy,
# so every test runs the way the CLI does
install()

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

pytest_plugins = ["pgserver"]

settings.register_profile("adu", deadline=None)
settings.load_profile("adu")

#: skips CI accepts: a fragment of the skip's reason -> why it is no hole in CI
ALLOWED_SKIPS: dict[str, str] = {
    "cannot restart an external server": "only with ADU_TEST_PG_URL (a server of yours); CI starts its own",
    "no Unix socket for an external server": "only with ADU_TEST_PG_URL (a server of yours); CI starts its own",
    "needs the test server": "only with ADU_TEST_VERTICA_URL (a real Vertica); CI uses the test server",
    "privilege test needs a second user": "only with ADU_TEST_VERTICA_URL (a real Vertica); CI uses the test server",
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _allowed(reason: str) -> str | None:
    return next((why for fragment, why in ALLOWED_SKIPS.items() if fragment in reason), None)


_allowed_seen: list[tuple[str, str, str]] = []


def _judge(report: Any) -> None:
    """In CI, turn a skip into a failure unless it is allowed (then remember it)."""
    if not _in_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    why = _allowed(reason)
    if why is not None:
        _allowed_seen.append((report.nodeid, reason, why))
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    _judge(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    outcome = yield
    _judge(outcome.get_result())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _in_ci():
        return
    terminalreporter.section("skips allowed in CI")
    if not _allowed_seen:
        terminalreporter.write_line("none: every test ran")
    for nodeid, reason, why in _allowed_seen:
        terminalreporter.write_line(f"{nodeid}: {reason} — allowed: {why}")
