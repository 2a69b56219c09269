"""Skips that CI does not accept.

On a developer's machine a test whose tool is missing (Chromium, network namespaces, a C
compiler) is skipped with the reason; in CI (``CI`` set, as ``.ci/run`` runs) the same
test fails, because CI installs every tool and a skip there would hide a broken setup.
"""

import os

import pytest


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)
