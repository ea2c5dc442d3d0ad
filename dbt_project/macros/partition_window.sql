{#- The [start_date, end_date) window of a daily model, from the vars Dagster passes.
    Fails loudly on a malformed or empty window instead of silently processing nothing. -#}
{% macro in_partition_window(column) -%}
  {%- set start = var('start_date') | string -%}
  {%- set end = var('end_date') | string -%}
  {%- for value in [start, end] -%}
    {%- if modules.re.fullmatch('\\d{4}-\\d{2}-\\d{2}', value) is none -%}
      {{ exceptions.raise_compiler_error("var start_date/end_date must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
  {%- endfor -%}
  {%- if start >= end -%}
    {{ exceptions.raise_compiler_error("empty partition window: start_date " ~ start ~ " >= end_date " ~ end) }}
  {%- endif -%}
  {{ column }} >= date'{{ start }}' and {{ column }} < date'{{ end }}'
{%- endmacro %}
