"""Test-wide fixtures: the throwaway PostgreSQL cluster (tests/pgserver.py) and
adu_core.testing (loaded by pytest's -p option in pyproject.toml)."""

pytest_plugins = ["pgserver"]
