"""Chat analytics over one version's message columns, with DuckDB, in the replica owning the data.

``frame`` gathers a version's live, filtered rows as one Arrow table (tombstones applied, no copy
of the text); ``sql`` opens a DuckDB connection over it with the views every report shares; the
reports (``overview``, ``activity``, ``people``, ``conversations``, ``interaction``, ``language``,
``calendar``) are a few SQL statements each (``interaction`` and ``language`` also read the text);
``service`` answers the ``index.analytics`` RPC.
"""
