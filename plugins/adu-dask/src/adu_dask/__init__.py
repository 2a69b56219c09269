"""ADU's Dask executor: a job's partitions as tasks of a Dask distributed cluster.

``ADU_EXECUTOR=dask`` runs every partition as a Dask task: on the scheduler
``ADU_DASK_SCHEDULER`` names (``tcp://host:8786``), or, without one, on a ``LocalCluster``
of worker processes that this process starts on first use and keeps for its life. The
coordinator (the process running the job) keeps the source's snapshot, settles tables,
publishes and writes the manifest; tasks only read, validate and stage files in the
export directory, which every worker must see (a shared mount). See
:mod:`adu_dask.executor` (coordinator side) and :mod:`adu_dask.task` (worker side).
"""
