"""OpenLineage run events for every materialization, bronze (Python), dbt models and the report.

openlineage-dbt refuses dbt-spark's session method (docs/design-decisions.md#d7), so events are
built on Dagster's side and sent with openlineage-python, from ONE place: after a run ends, from
what the run recorded in Dagster's event log (run_events.py) and the assets' definitions.
Asset bodies know nothing of OpenLineage; this package reads their metadata keys
(ettl_assets/metadata.py) and is imported by no tier. When events are sent, with and without a
daemon, and why never twice: finished_runs.py.
"""
