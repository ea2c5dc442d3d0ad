{#-
  Expose bronze (Parquet written by the Python bronze assets) to Spark as external tables, one per
  `bronze` source plus its `<source>__quarantine` table, so models read them through source() and
  dbt can introspect their columns. Runs on every dbt invocation (on-run-start): a table whose
  declared columns changed (a contract change) is re-created (external: the files stay). A
  Dagster step names the partition folders of its window (ETTL_BRONZE_PARTITIONS, from
  ettl_assets/transform/bronze_partitions.py) and only those the metastore lacks are added; a
  table just created, and dbt by hand, get `recover partitions` (every folder).
  The audit, quarantine and partition columns come from var('bronze_layout') (dbt_project.yml),
  which ettl_assets/bronze/table_columns.py reads too; the folders match ettl_assets/bronze/assets.py.
-#}
{% macro register_bronze_tables() %}
  {%- if execute -%}
    {%- do run_query('create database if not exists bronze') -%}
    {%- set is_daily = {} -%}
    {%- for source in graph.sources.values() if source.source_name == 'bronze' -%}
      {%- do is_daily.update({source.name: source.config.meta.ettl.cadence == 'daily'}) -%}
      {%- do register_external_table(source.name, bronze_columns(source), is_daily[source.name]) -%}
    {%- endfor -%}
    {#- Under its declared identifier (the registry checks it is `<source>__quarantine`). -#}
    {%- for source in graph.sources.values()
        if source.source_name == 'quarantine' and source.name in is_daily -%}
      {%- set daily = is_daily[source.name] -%}
      {%- do register_external_table(source.identifier, quarantine_columns(), daily) -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}


{#- Contract columns, then each known alias (a column's other delivered name) in its type. -#}
{% macro bronze_columns(source) -%}
  {%- set columns = [] -%}
  {%- set types = {} -%}
  {%- for column in source.columns.values() -%}
    {%- do columns.append((column.name, column.data_type)) -%}
    {%- do types.update({column.name: column.data_type}) -%}
  {%- endfor -%}
  {%- for delivered, column in (source.config.meta.ettl.aliases or {}).items() | sort -%}
    {%- do columns.append((delivered, types[column])) -%}
  {%- endfor -%}
  {{- return(columns + audit_columns()) -}}
{%- endmacro %}


{#- (name, type) pairs of one list of var('bronze_layout'). -#}
{% macro layout_columns(key) -%}
  {%- set columns = [] -%}
  {%- for column in var('bronze_layout')[key] -%}
    {%- do columns.append((column.name, column.data_type)) -%}
  {%- endfor -%}
  {{- return(columns) -}}
{%- endmacro %}


{% macro audit_columns() -%}
  {#- Added by the bronze assets to every row. -#}
  {{- return(layout_columns('audit_columns')) -}}
{%- endmacro %}


{% macro quarantine_columns() -%}
  {{- return(layout_columns('quarantine_columns') + audit_columns()) -}}
{%- endmacro %}


{#- The date column of a daily source's partitions (folders `<column>=YYYY-MM-DD/`). -#}
{% macro bronze_partition_column() -%}
  {{- return(var('bronze_layout').partition_column) -}}
{%- endmacro %}


{% macro register_external_table(name, columns, daily) %}
  {%- set location = env_var('ETTL_DATA_DIR') ~ '/warehouse/bronze.db/' ~ name -%}
  {%- set partition_column = bronze_partition_column() -%}
  {%- set existing = adapter.get_relation(database=none, schema='bronze', identifier=name) -%}
  {%- set created = existing is none -%}
  {%- if existing is not none -%}
    {%- set current = [] -%}
    {%- for column in adapter.get_columns_in_relation(existing)
        if column.name != partition_column -%}
      {%- do current.append((column.name, column.data_type)) -%}
    {%- endfor -%}
    {%- if current != columns -%}
      {%- do run_query('drop table bronze.' ~ name) -%}
      {%- set created = true -%}
    {%- endif -%}
  {%- endif -%}
  {%- set declared = [] -%}
  {%- for column_name, data_type in columns -%}
    {%- do declared.append('`' ~ column_name ~ '` ' ~ data_type) -%}
  {%- endfor -%}
  {%- if daily -%}{%- do declared.append(partition_column ~ ' date') -%}{%- endif -%}
  {%- call statement('create_' ~ name) -%}
    create table if not exists bronze.{{ name }} ({{ declared | join(', ') }})
    using parquet
    {% if daily %}partitioned by ({{ partition_column }}){% endif %}
    location '{{ location }}'
  {%- endcall -%}
  {%- if daily -%}
    {%- do register_partitions(name, created) -%}
  {%- endif -%}
  {#- Spark caches file listings: a delivery re-landed into a registered folder is read anew. -#}
  {%- do run_query('refresh table bronze.' ~ name) -%}
  {#- Bronze keeps personal data in clear: readable by the platform role only (grants.sql). -#}
  {%- set relation = api.Relation.create(schema='bronze', identifier=name, type='table') -%}
  {%- do apply_grants(relation, var('bronze_grants'), should_revoke=false) -%}
{% endmacro %}


{#- The daily partitions of bronze.<name>: those of the step's window the metastore lacks, or
    every folder (`recover partitions`, which lists them all) for a table just created or
    without the step's list (dbt by hand). -#}
{% macro register_partitions(name, created) %}
  {%- set listed = env_var('ETTL_BRONZE_PARTITIONS', '') -%}
  {%- if created or not listed -%}
    {%- do run_query('alter table bronze.' ~ name ~ ' recover partitions') -%}
    {{- return(none) -}}
  {%- endif -%}
  {%- set ranges = fromjson(listed).get(name, []) -%}
  {%- if not ranges -%}{{- return(none) -}}{%- endif -%}
  {%- set column = bronze_partition_column() -%}
  {%- set registered = [] -%}
  {%- for row in run_query('show partitions bronze.' ~ name) -%}
    {%- do registered.append(row[0]) -%}
  {%- endfor -%}
  {%- set missing = [] -%}
  {%- for first, last in ranges -%}
    {%- set start = modules.datetime.date.fromisoformat(first) -%}
    {%- for n in range((modules.datetime.date.fromisoformat(last) - start).days + 1) -%}
      {%- set day = (start + modules.datetime.timedelta(days=n)).isoformat() -%}
      {%- if (column ~ '=' ~ day) not in registered -%}{%- do missing.append(day) -%}{%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- for days in missing | batch(200) -%}
    {%- set specs = [] -%}
    {%- for day in days -%}
      {%- do specs.append("partition (" ~ column ~ " = '" ~ day ~ "')") -%}
    {%- endfor -%}
    {%- do run_query('alter table bronze.' ~ name ~ ' add if not exists ' ~ specs | join(' ')) -%}
  {%- endfor -%}
{% endmacro %}
