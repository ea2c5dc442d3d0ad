{#-
  The reconciliation ledger's silver check (docs/reconciliation.md): per day of the run's window,
  a daily silver model holds exactly the rows its bronze deliveries leave once the named rules
  (`rules`) have taken theirs. The expected rows are computed outside Spark, from the bronze
  files, by ettl_assets/reconciliation/ (where each rule is written, once) and passed as the var
  reconciliation_expected_rows; this test only counts the model's rows per day. At ERROR it
  skips the gold built on the model for the run, in the same `dbt build`. A `dbt build` started
  outside Dagster passes no expectation: then there is nothing to compare.
-#}
{% test rows_reconciled(model, rules) %}
    {%- set expected = var('reconciliation_expected_rows', {}).get(tested_model_name()) -%}
    {%- set date_column = tested_window_column() -%}
    {%- if expected is none %}
  select cast(null as date) as day where false
  {%- else %}
  with

  kept as (
      select {{ date_column }} as day, count(*) as silver_kept
      from {{ model }}
      group by {{ date_column }}
  ),

  expected as (
      {%- for day, rows in expected.items() %}
      select date'{{ day }}' as day, cast({{ rows | int }} as bigint) as expected_rows
      {{ 'union all' if not loop.last }}
      {%- else %}
      select cast(null as date) as day, cast(null as bigint) as expected_rows where false
      {%- endfor %}
  )

  select
      coalesce(expected.day, kept.day) as day,
      coalesce(expected.expected_rows, 0) as expected_rows,
      coalesce(kept.silver_kept, 0) as silver_kept
  from expected
  full outer join kept on expected.day = kept.day
  where coalesce(expected.expected_rows, 0) != coalesce(kept.silver_kept, 0)
  {%- endif %}
{% endtest %}
