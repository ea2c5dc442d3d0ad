{#- The folder's +schema (bronze/silver/gold) is the Spark database as is, not
    `<target schema>_<schema>`: every target sees the same tier databases. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
