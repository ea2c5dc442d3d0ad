{#-
  The reconciliation ledger's silver check (docs/reconciliation.md): per delivery day of the run's
  window, the rows of the model's bronze source = what each row rule declared in the model's YAML
  drops + what the model holds. The rules' counts are written by the model itself, with its own
  SQL (apply_row_rules, macros/row_rules.sql), into the step's directory
  ETTL_ROW_RULE_COUNTS_DIR (read only when executing, like the window:
  macros/partition_window.sql); bronze and the model are counted here. So a row the model drops
  beyond its declared rules (a `where` in its normalization, say) is in no count and fails the
  test. At ERROR it skips the gold built on the model for the run, in the same `dbt build`. A
  `dbt build` started without that directory (outside Dagster) has nothing to compare and passes.
-#}
{% test rows_reconciled(model) %}
    {%- set counts_dir = row_rule_counts_dir(tested_model_name()) -%}
    {%- if counts_dir is none %}
  select cast(null as date) as day where false
    {%- else %}
    {#- Here `model` is the tested relation; macros see the test node as `model`. -#}
    {%- set tested = tested_node() -%}
    {%- set rules = declared_row_rules(tested) -%}
    {%- set bronze = tested_bronze_relation(tested) -%}
    {%- set delivered = bronze_partition_column() %}
  {#- One aggregation over the three counts: no join, one shuffle. -#}
  with

  counted as (
      select {{ delivered }} as day, cast(1 as bigint) as bronze_rows, cast(0 as bigint) as dropped,
          cast(0 as bigint) as kept
      from {{ bronze }}
      where {{ in_partition_window(delivered) }}
      union all
      select day, 0, {{ rules.drops | join(' + ') }}, 0
      from parquet.`{{ counts_dir }}`
      union all
      select {{ rules.window_column }}, 0, 0, 1
      from {{ model }}
  )

  select
      day,
      sum(bronze_rows) as bronze_rows,
      sum(dropped) as dropped_by_rules,
      sum(kept) as silver_kept
  from counted
  group by day
  having sum(bronze_rows) != sum(dropped) + sum(kept)
  {%- endif %}
{% endtest %}
