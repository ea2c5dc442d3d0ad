{#-
  Keep the failing rows of every failed or warned test durably, in audit.dbt_test_failures (one
  JSON document per failing row, with the test, its severity and the run's window); appended,
  never replaced. dbt's own store_failures tables are replaced on every run (trap 8) and cost a
  Spark statement per test even when it passes; re-running just the failed tests' compiled SQL
  here costs nothing when everything passes.
-#}
{% macro keep_test_failures(results) %}
  {%- if execute -%}
    {%- do run_query('create database if not exists audit') -%}
    {%- call statement('create_test_failures') -%}
      create table if not exists audit.dbt_test_failures (
        test_name string,
        tested_node string,
        severity string,
        status string,
        failures bigint,
        invocation_id string,
        window_start string,
        window_end string,
        recorded_at timestamp,
        failing_row string
      ) using parquet
    {%- endcall -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status in ('fail', 'warn') -%}
      {%- set tested = result.node.attached_node or (result.node.depends_on.nodes or ['']) | first -%}
      {%- call statement('keep_' ~ loop.index) -%}
        insert into audit.dbt_test_failures
        select
          '{{ result.node.name }}',
          '{{ tested }}',
          '{{ result.node.config.severity | lower }}',
          '{{ result.status }}',
          {{ result.failures or 0 }},
          '{{ invocation_id }}',
          '{{ var("start_date") }}',
          '{{ var("end_date") }}',
          current_timestamp(),
          to_json(struct(*))
        from ({{ result.node.compiled_code }}) as failing_rows
      {%- endcall -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
