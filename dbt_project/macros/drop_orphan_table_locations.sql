{#-
  Free the location of each table this invocation will create, when a killed run left files there.
  Spark refuses to create a managed table whose folder is not empty (LOCATION_ALREADY_EXISTS). A
  dbt step killed while it created a table (a model's first build, or a `table` model, which dbt
  drops and creates again) leaves the folder with part of the data and no table in the metastore:
  no reader sees those files, but every later build of that model fails on them. For each
  selected model with no table, a placeholder database is created on that folder and dropped,
  which deletes the folder through the metastore (Spark SQL has no other way to delete files; a
  folder that does not exist is created and deleted again).
  A model whose table exists is never touched: its history outside the window stays. Runs on
  every dbt invocation (on-run-start); a no-op when every selected model has its table.
-#}
{% macro drop_orphan_table_locations() %}
  {%- if execute -%}
    {%- set locations = {} -%}
    {%- for node in graph.nodes.values()
          if node.unique_id in selected_resources and node.resource_type == 'model'
          and node.config.materialized in ('table', 'incremental') -%}
      {%- set existing = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias) -%}
      {%- if existing is none -%}
        {%- if node.schema not in locations -%}
          {%- do run_query('create database if not exists ' ~ node.schema) -%}
          {%- do locations.update({node.schema: schema_location(node.schema)}) -%}
        {%- endif -%}
        {%- set placeholder = node.schema ~ '__' ~ node.alias ~ '__orphan_location' -%}
        {%- do run_query('drop database if exists ' ~ placeholder ~ ' cascade') -%}
        {%- do run_query('create database ' ~ placeholder ~ " location '"
                         ~ locations[node.schema] ~ '/' ~ node.alias ~ "'") -%}
        {%- do run_query('drop database ' ~ placeholder ~ ' cascade') -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}


{% macro schema_location(schema) -%}
  {%- for row in run_query('describe schema extended ' ~ schema) if row[0] == 'Location' -%}
    {{- return(row[1].rstrip('/')) -}}
  {%- endfor -%}
  {{- exceptions.raise_compiler_error('no location for schema ' ~ schema) -}}
{%- endmacro %}
