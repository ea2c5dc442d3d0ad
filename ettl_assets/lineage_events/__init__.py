"""OpenLineage run events for every materialization, bronze (Python) and dbt models alike.

openlineage-dbt refuses dbt-spark's session method (docs/design-decisions.md#d7), so events are
built on Dagster's side, from the step's context, the registry and dbt's manifest and run_results,
and sent with openlineage-python.
"""
