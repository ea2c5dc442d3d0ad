{#-
  Declare the tables of a backup to Spark again (`ettl restore`, ettl/backup/catalog.py).
  `tables`: [{schema, name, columns: [[name, type], ...], partition_columns: [name, ...]}].

  Gold tables are created MANAGED, the way dbt-spark's materializations create them, so later
  runs treat them as their own: a `table` model drops and re-creates its table (dropping an
  external table would leave its files, and the create would then fail on the non-empty
  folder), an `incremental` one inserts overwrite into it. Spark refuses to create a managed
  table over a folder that holds files, so restore calls create_restored_tables before it moves
  the files in, and recover_restored_tables after.
-#}
{% macro create_restored_tables(tables) %}
  {%- for table in tables -%}
    {%- set existing = adapter.get_relation(
        database=none, schema=table.schema, identifier=table.name) -%}
    {%- if existing is not none -%}
      {{ exceptions.raise_compiler_error(
          table.schema ~ '.' ~ table.name ~ ' already exists in the Spark catalog: restore only '
          ~ 'declares new tables (drop it first, or restore into a new ETTL_DATA_DIR)') }}
    {%- endif -%}
  {%- endfor -%}
  {%- for schema in tables | map(attribute='schema') | unique -%}
    {%- do run_query('create database if not exists ' ~ schema) -%}
  {%- endfor -%}
  {%- for table in tables -%}
    {%- set declared = [] -%}
    {%- for column_name, data_type in table.columns -%}
      {%- do declared.append('`' ~ column_name ~ '` ' ~ data_type) -%}
    {%- endfor -%}
    {%- call statement('create_' ~ table.name) -%}
      create table {{ table.schema }}.{{ table.name }} ({{ declared | join(', ') }})
      using parquet
      {% if table.partition_columns %}partitioned by ({{ table.partition_columns | join(', ') }}){% endif %}
    {%- endcall -%}
  {%- endfor -%}
{% endmacro %}


{% macro recover_restored_tables(tables) %}
  {#- run-operation runs no on-run-start hook: register bronze as every dbt run does. -#}
  {%- do register_bronze_tables() -%}
  {%- for table in tables -%}
    {%- if table.partition_columns -%}
      {#- A managed table's partitions live in the catalog: list the restored folders there. -#}
      {%- do run_query('alter table ' ~ table.schema ~ '.' ~ table.name ~ ' recover partitions') -%}
    {%- else -%}
      {%- do run_query('refresh table ' ~ table.schema ~ '.' ~ table.name) -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
