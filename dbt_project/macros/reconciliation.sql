{#-
  audit.reconciliation, the reconciliation ledger (docs/reconciliation.md), for Spark and dbt to
  query. Its rows are written by Python (ettl_assets/reconciliation/store.py, one Parquet file per
  run and tier); this only declares the table over that folder, once. The columns match store.py.
-#}
{% macro register_reconciliation_table() %}
  {%- if execute -%}
    {%- do run_query('create database if not exists audit') -%}
    {%- call statement('create_reconciliation') -%}
      create table if not exists audit.reconciliation (
        run_id string,
        recorded_at timestamp,
        window_start date,
        window_end date,
        source string,
        day date,
        tier string,
        asset string,
        measure string,
        hop string,
        rule string,
        amount decimal(38, 2)
      ) using parquet
      location '{{ env_var('ETTL_DATA_DIR') }}/warehouse/audit.db/reconciliation'
    {%- endcall -%}
  {%- endif -%}
{% endmacro %}

{#- The model under test, as a graph node (in a macro a test calls, `model` is the test node). -#}
{% macro tested_node() -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {{ return(graph.nodes[model.attached_node]) }}
{%- endmacro %}

{% macro tested_model_name() -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {{ return(tested_node().name) }}
{%- endmacro %}


{#- The one bronze source a daily silver model reads (its table name, e.g. bronze.flights). -#}
{% macro tested_bronze_relation(node) -%}
  {%- set found = [] -%}
  {%- for node_id in node.depends_on.nodes if node_id.startswith('source.') -%}
    {%- set source_node = graph.sources[node_id] -%}
    {%- if source_node.source_name == 'bronze' -%}
      {%- do found.append(source_node.relation_name) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if found | length != 1 -%}
    {{ exceptions.raise_compiler_error(node.name ~ ": the ledger needs exactly one bronze source, "
        ~ "found " ~ found | length) }}
  {%- endif -%}
  {{ return(found[0]) }}
{%- endmacro %}
