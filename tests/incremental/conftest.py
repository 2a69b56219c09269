"""Fixtures of the incremental-export tests: a real PostgreSQL source (tests/pgserver.py)."""

from __future__ import annotations
