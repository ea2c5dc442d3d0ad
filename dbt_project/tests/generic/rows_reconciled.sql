{#-
  The reconciliation ledger's silver check (docs/reconciliation.md): per day of the run's window,
  a daily silver model holds exactly the rows its bronze deliveries leave once the named rules
  (`rules`) have taken theirs. The expected rows are computed outside Spark, from the bronze
  files, by ettl_assets/reconciliation/ (where each rule is written, once) and passed as JSON in
  the environment variable ETTL_RECONCILIATION_EXPECTED_ROWS (read only when executing, like the
  window: macros/partition_window.sql); this test only counts the model's rows per day. At ERROR it
  skips the gold built on the model for the run, in the same `dbt build`. A `dbt build` started
  outside Dagster passes no expectation: then there is nothing to compare.
-#}
{% test rows_reconciled(model, rules) %}
    {%- set passed = env_var('ETTL_RECONCILIATION_EXPECTED_ROWS', '{}') if execute else '{}' -%}
    {%- set expected = fromjson(passed).get(tested_model_name()) -%}
    {%- set date_column = tested_window_column() -%}
    {%- if expected is none %}
  select cast(null as date) as day where false
  {%- else %}
  {#- One aggregation over the day's rows and the expected counts: no join, one shuffle. -#}
  with

  counted as (
      select {{ date_column }} as day, cast(0 as bigint) as expected_rows, cast(1 as bigint) as kept
      from {{ model }}
      {%- for day, rows in expected.items() %}
      union all
      select date'{{ day }}', cast({{ rows | int }} as bigint), cast(0 as bigint)
      {%- endfor %}
  )

  select
      day,
      sum(expected_rows) as expected_rows,
      sum(kept) as silver_kept
  from counted
  group by day
  having sum(expected_rows) != sum(kept)
  {%- endif %}
{% endtest %}
