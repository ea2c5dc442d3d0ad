{#-
  Keep the failing rows of every failed or warned test durably. dbt's store_failures relations
  are replaced on each run (trap 8); this appends them, with the test, its severity and the run's
  window, to audit.dbt_test_failures (one JSON document per failing row). Never replaced.
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
        if result.node.resource_type == 'test' and result.status in ('fail', 'warn')
        and result.node.relation_name -%}
      {%- set tested = (result.node.depends_on.nodes or ['']) | first -%}
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
        from {{ result.node.relation_name }}
      {%- endcall -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
