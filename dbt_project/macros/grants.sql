{#-
  Access per tier (docs/security.md): dbt_project.yml declares `+grants` on silver
  (engineers) and gold (analysts), and `var('bronze_grants')` (the platform role only), which
  register_bronze_tables applies to every bronze table.

  Open-source Spark, the embedded engine as well as its Thrift server, has no SQL authorization:
  Spark 4.3 rejects GRANT and SHOW GRANTS as invalid statements (checked by
  tests/e2e/test_sensitive_data.py). So dbt's own apply_grants runs only where
  ETTL_APPLY_GRANTS=true, on a Spark that enforces them (Databricks, or a Thrift server behind
  an authorization plugin such as Apache Ranger or Kyuubi's); elsewhere the declared grants of
  each relation are written to dbt's log instead of failing the build.
-#}
{% macro spark__apply_grants(relation, grant_config, should_revoke=True) %}
  {%- if grant_config and grants_enforced() -%}
    {% do default__apply_grants(relation, grant_config, should_revoke) %}
  {%- elif grant_config -%}
    {% do log('grants declared, not applied (ETTL_APPLY_GRANTS is not true): '
              ~ relation ~ ' ' ~ tojson(grant_config), info=false) %}
  {%- endif -%}
{% endmacro %}


{% macro grants_enforced() -%}
  {{ return(env_var('ETTL_APPLY_GRANTS', 'false') | lower == 'true') }}
{%- endmacro %}
