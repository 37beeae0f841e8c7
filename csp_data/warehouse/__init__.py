"""The data layer: published files in, one locked-down warehouse out.

``sources`` reads each publisher's format; ``ingest`` and ``update`` bring new files in (refusing the
impossible); ``manifest`` records what each file is; ``build`` turns them into Parquet; ``db`` and
``sql`` run the named queries in ``queries/``. ``geo`` loads boundaries, ``fileio`` writes and locks
files safely, ``catalogue`` and ``freshness`` say where each source comes from and how current it is.
Imports only :mod:`csp_data.config`.
"""
