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

{#- The name of the model under test (in a macro a test calls, `model` is the test node). -#}
{% macro tested_model_name() -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {{ return(graph.nodes[model.attached_node].name) }}
{%- endmacro %}
