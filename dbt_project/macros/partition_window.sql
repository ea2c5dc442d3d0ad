{#- The [start_date, end_date) window of the daily models, as [start, end] YYYY-MM-DD strings.
    Dagster always sets ETTL_WINDOW_START and ETTL_WINDOW_END for its dbt process
    (ettl_assets/transform/dbt_vars.py); `--vars '{start_date: ..., end_date: ...}'` (dbt by
    hand) takes precedence. A bound given neither way is the data the warehouse holds: the first
    (or the day after the last) day delivered to a daily bronze table, so a plain `dbt build`
    rebuilds every delivered day and a plain `dbt test` judges all of them. Read only when
    executing: what dbt reads while parsing decides whether its partial parse still holds, and
    the window changes every run. -#}
{% macro partition_window() -%}
  {%- if not execute -%}
    {{ return(['1970-01-01', '1970-01-02']) }}  {#- parsing: any valid window; never run -#}
  {%- endif -%}
  {%- set start = var('start_date', none) or env_var('ETTL_WINDOW_START', '') or none -%}
  {%- set end = var('end_date', none) or env_var('ETTL_WINDOW_END', '') or none -%}
  {%- if start is none or end is none -%}
    {%- set first, last = delivered_days() -%}
    {%- set start = first if start is none else start -%}
    {%- set end = last if end is none else end -%}
  {%- endif -%}
  {{ return([start | string, end | string]) }}
{%- endmacro %}


{#- [first, last + 1 day) of the days delivered to the daily bronze tables, as YYYY-MM-DD
    strings, from the partitions the metastore lists (on-run-start registered them: no file is
    read). Asked once per dbt invocation: the answer is kept in `graph`, the one dictionary every
    node of an invocation shares, since a model and each of its tests ask again. -#}
{% macro delivered_days() -%}
  {%- if graph.get('ettl_delivered_days') is none -%}
    {%- set days = [] -%}
    {%- for source in graph.sources.values()
        if source.source_name == 'bronze' and source.config.meta.ettl.cadence == 'daily' -%}
      {%- set relation = source.schema ~ '.' ~ source.identifier -%}
      {%- for row in run_query('show partitions ' ~ relation) -%}
        {#- A row reads `partition_date=2013-01-05`. -#}
        {%- do days.append(row[0].split('=')[1]) -%}
      {%- endfor -%}
    {%- endfor -%}
    {%- if not days -%}
      {{ exceptions.raise_compiler_error(
          "no partition window: no daily bronze table holds a day yet (land and materialize"
          ~ " bronze first: `ettl run`), or pass --vars '{start_date: YYYY-MM-DD, end_date:"
          ~ " YYYY-MM-DD}'") }}
    {%- endif -%}
    {%- set last = modules.datetime.date.fromisoformat(days | max) -%}
    {%- set after_last = (last + modules.datetime.timedelta(days=1)).isoformat() -%}
    {%- do graph.update({'ettl_delivered_days': [days | min, after_last]}) -%}
  {%- endif -%}
  {{ return(graph['ettl_delivered_days']) }}
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
