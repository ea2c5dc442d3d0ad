{#- Keep the latest delivered version of each key: a file delivered twice, or a corrected
    re-delivery, must not duplicate rows. Ties on ingest time break on the source file name. -#}
{% macro deduplicate(relation, key_columns) -%}
  select * from (
      select
          *,
          row_number() over (
              partition by {{ key_columns | join(', ') }}
              order by _ingested_at desc, _source_file desc
          ) as _version_rank
      from {{ relation }}
  ) as ranked
  where _version_rank = 1
{%- endmacro %}


{#- A stable hash key from several columns (NULLs made explicit so (a, null) != (null, a)). -#}
{% macro surrogate_key(columns) -%}
  md5(concat_ws('|'
    {%- for column in columns -%}
      , coalesce(cast({{ column }} as string), '<null>')
    {%- endfor -%}
  ))
{%- endmacro %}


{#- A local wall-clock time given as an hhmm integer on a date, as a UTC timestamp.
    2400 means midnight at the end of the day, so the minutes are added as an interval rather
    than built with make_timestamp (which rejects hour 24). The session time zone is UTC. -#}
{% macro local_hhmm_to_utc(date_expression, hhmm_expression, time_zone='America/New_York') -%}
  to_utc_timestamp(
      cast({{ date_expression }} as timestamp)
          + make_dt_interval(0, cast({{ hhmm_expression }} div 100 as int), cast({{ hhmm_expression }} % 100 as int), 0),
      '{{ time_zone }}'
  )
{%- endmacro %}
