{#- The [start_date, end_date) window of the daily models, as [start, end] YYYY-MM-DD strings.
    Dagster always sets ETTL_WINDOW_START and ETTL_WINDOW_END for its dbt process
    (ettl_assets/transform/dbt_vars.py); `--vars '{start_date: ..., end_date: ...}'` (dbt by
    hand) takes precedence. With neither, the window is the configured span: ETTL_FIRST_DAY
    (ettl.yaml's first_day, exported by `ettl` and the Dagster code location) through yesterday
    in ETTL_TIMEZONE. Read only when executing: what dbt reads while parsing decides whether its
    partial parse still holds, and the window changes every run. -#}
{% macro partition_window() -%}
  {%- if not execute -%}
    {{ return(['1970-01-01', '1970-01-02']) }}  {#- parsing: any valid window; never run -#}
  {%- endif -%}
  {%- set start = var('start_date', none) or env_var('ETTL_WINDOW_START', '') or none -%}
  {%- set end = var('end_date', none) or env_var('ETTL_WINDOW_END', '') or none -%}
  {%- if start is none -%}
    {%- set start = env_var('ETTL_FIRST_DAY', '') -%}
    {%- if not start -%}
      {{ exceptions.raise_compiler_error(
          "no partition window: pass --vars '{start_date: YYYY-MM-DD, end_date: YYYY-MM-DD}'"
          ~ " or set ETTL_FIRST_DAY (ettl.yaml's first_day)") }}
    {%- endif -%}
  {%- endif -%}
  {%- if end is none -%}
    {%- set zone = modules.pytz.timezone(env_var('ETTL_TIMEZONE', 'UTC')) -%}
    {#- exclusive: today in the configured timezone, so the last day built is yesterday -#}
    {%- set end = modules.datetime.datetime.now(zone).date().isoformat() -%}
  {%- endif -%}
  {{ return([start | string, end | string]) }}
{%- endmacro %}


{#- The filter of a daily model's window on `column`. Fails loudly on a malformed or empty
    window instead of silently processing nothing. -#}
{% macro in_partition_window(column) -%}
  {%- set start, end = partition_window() -%}
  {%- for value in [start, end] -%}
    {%- if modules.re.fullmatch('\\d{4}-\\d{2}-\\d{2}', value) is none -%}
      {{ exceptions.raise_compiler_error(
          "var start_date/end_date must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
  {%- endfor -%}
  {%- if start >= end -%}
    {{ exceptions.raise_compiler_error(
        "empty partition window: start_date " ~ start ~ " >= end_date " ~ end) }}
  {%- endif -%}
  {{ column }} >= date'{{ start }}' and {{ column }} < date'{{ end }}'
{%- endmacro %}
