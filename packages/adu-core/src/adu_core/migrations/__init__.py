"""Alembic migrations of the job store (run by :meth:`adu_core.store.Store.migrate`)."""
