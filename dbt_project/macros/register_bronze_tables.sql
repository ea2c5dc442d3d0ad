{#-
  Expose bronze (Parquet written by the Python bronze assets) to Spark as external tables, one per
  `bronze` source, so models read it through source() and dbt can introspect its columns.
  Runs on every dbt invocation (on-run-start): `create ... if not exists` is a no-op once the table
  exists, and `recover partitions` picks up the daily partitions landed since the last run.
  The layout here must match ettl_assets/sources/bronze.py.
-#}
{% macro register_bronze_tables() %}
  {%- if execute -%}
    {%- do run_query('create database if not exists bronze') -%}
    {%- for source in graph.sources.values() if source.source_name == 'bronze' -%}
      {%- do run_query(bronze_table_ddl(source)) -%}
      {%- if bronze_is_daily(source) -%}
        {%- do run_query('alter table bronze.' ~ source.name ~ ' recover partitions') -%}
      {%- else -%}
        {%- do run_query('refresh table bronze.' ~ source.name) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}


{% macro bronze_is_daily(source) -%}
  {{ return(source.config.meta.ettl.cadence == 'daily') }}
{%- endmacro %}


{% macro bronze_table_ddl(source) -%}
  {%- set location = env_var('ETTL_DATA_DIR') ~ '/warehouse/bronze.db/' ~ source.name -%}
  {%- set columns = [] -%}
  {%- for column in source.columns.values() -%}
    {%- do columns.append('`' ~ column.name ~ '` ' ~ column.data_type) -%}
  {%- endfor -%}
  {#- Audit columns added by the bronze assets to every row. -#}
  {%- do columns.extend(['_ingested_at timestamp', '_source_file string', '_run_id string']) -%}
  {%- if bronze_is_daily(source) -%}
    {%- do columns.append('partition_date date') -%}
  {%- endif -%}
  create table if not exists bronze.{{ source.name }} ({{ columns | join(', ') }})
  using parquet
  {% if bronze_is_daily(source) %}partitioned by (partition_date){% endif %}
  location '{{ location }}'
{%- endmacro %}
