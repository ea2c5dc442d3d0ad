{#-
  Keep the failing rows of every failed or warned test durably, in audit.dbt_test_failures (one
  JSON document per failing row, with the test, its severity and the run's window); never
  replaced. dbt's own store_failures tables are replaced on every run (docs/design-decisions.md#d8) and cost a
  Spark statement per test even when it passes; re-running just the failed tests' compiled SQL
  here costs nothing when everything passes.

  Each dbt invocation writes its own partition (invocation_id), in one statement, with dynamic
  partition overwrite: Spark then stages the files in a directory of its own job. A plain
  `insert into` stages them in the table's shared `_temporary/0`, and two runs finishing at once
  on a Thrift server failed with "_temporary/0 does not exist". dbt-spark's insert_overwrite
  models set the same mode themselves (docs/design-decisions.md#d13).
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
        window_start string,
        window_end string,
        recorded_at timestamp,
        failing_row string,
        invocation_id string
      ) using parquet
      partitioned by (invocation_id)
    {%- endcall -%}
    {%- set kept = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status in ('fail', 'warn') -%}
      {%- set tested = result.node.attached_node or (result.node.depends_on.nodes or ['']) | first -%}
      {%- set failing -%}
        select
          '{{ result.node.name }}',
          '{{ tested }}',
          '{{ result.node.config.severity | lower }}',
          '{{ result.status }}',
          {{ result.failures or 0 }},
          '{{ partition_window()[0] }}',
          '{{ partition_window()[1] }}',
          current_timestamp(),
          to_json(struct(*)),
          '{{ invocation_id }}'
        from ({{ result.node.compiled_code }}) as failing_rows
      {%- endset -%}
      {%- do kept.append(failing) -%}
    {%- endfor -%}
    {%- if kept -%}
      {%- do migrate_unpartitioned_test_failures() -%}
      {%- do run_query('set spark.sql.sources.partitionOverwriteMode=dynamic') -%}
      {%- call statement('keep_test_failures') -%}
        insert overwrite table audit.dbt_test_failures partition (invocation_id)
        {{ kept | join('\n        union all\n') }}
      {%- endcall -%}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}

{#-
  A data dir from before the invocation_id partitions holds the table unpartitioned, and the
  insert above fails there with PARTITIONS_NOT_FOUND. Its rows are moved into the new layout
  once (same columns, invocation_id last). Checked only when there is something to keep, so a
  clean run pays nothing.
-#}
{% macro migrate_unpartitioned_test_failures() %}
  {%- set definition = run_query('show create table audit.dbt_test_failures')
                         .columns[0].values()[0] -%}
  {%- if 'PARTITIONED BY' not in definition | upper -%}
    {{ log('audit.dbt_test_failures: moving its rows to one partition per dbt invocation',
           info=true) }}
    {%- do run_query('alter table audit.dbt_test_failures rename to '
        ~ 'audit.dbt_test_failures_unpartitioned') -%}
    {%- do run_query('create table audit.dbt_test_failures using parquet '
        ~ 'partitioned by (invocation_id) as '
        ~ 'select test_name, tested_node, severity, status, failures, window_start, window_end, '
        ~ 'recorded_at, failing_row, invocation_id from audit.dbt_test_failures_unpartitioned') -%}
    {%- do run_query('drop table audit.dbt_test_failures_unpartitioned') -%}
  {%- endif -%}
{% endmacro %}
