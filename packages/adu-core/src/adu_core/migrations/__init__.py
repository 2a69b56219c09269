"""Alembic migrations of the job store (run by :meth:`adu_core.store.Store.migrate`)."""

#: the newest revision in ``versions/``; a store already there is not handed to Alembic
#: at all (a test checks this constant against Alembic's own idea of the head)
HEAD_REVISION = "0007"
