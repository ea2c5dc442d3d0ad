{#-
  Sensitive data in silver (README "Sensitive data"). The registry declares each bronze column's
  sensitivity (`config.meta.sensitivity`); this turns a source's columns into a select list:

    public, internal  as delivered
    pii               HMAC-SHA-256 of the value (hex), named <column>_hash: joinable and
                      countable, not readable; NULL stays NULL
    restricted        dropped, unless the model lists it in `allow_restricted`

  The HMAC key never appears in SQL, logs or the repository: it is the Spark session setting
  spark.ettl.pii_hmac_key (profiles.yml sets it from DBT_ENV_SECRET_PII_HMAC_KEY, which dbt
  scrubs from its logs), and Spark substitutes `${...}` when it parses the statement. Its name
  must not match spark.redaction.regex (secret|password|token): Spark would substitute the
  redacted text instead of the key.
-#}
{% macro protected_columns(source_name, allow_restricted=[]) -%}
  {%- if not execute -%}{{ return('*') }}{%- endif -%}
  {%- set source = graph.sources['source.' ~ project_name ~ '.bronze.' ~ source_name] -%}
  {%- set selected = [] -%}
  {%- for column in source.columns.values() -%}
    {%- set level = column.config.meta.sensitivity -%}
    {%- if level == 'pii' -%}
      {%- do selected.append(pii_hash(column.name) ~ ' as ' ~ column.name ~ '_hash') -%}
    {%- elif level == 'restricted' -%}
      {%- if column.name in allow_restricted -%}{%- do selected.append(column.name) -%}{%- endif -%}
    {%- elif level in ('public', 'internal') -%}
      {%- do selected.append(column.name) -%}
    {%- else -%}
      {{ exceptions.raise_compiler_error("bronze." ~ source_name ~ "." ~ column.name ~ ": unknown sensitivity '" ~ level ~ "'") }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(selected | join(',\n        ')) }}
{%- endmacro %}


{#- Keyed hash of one value. commons-codec's HmacUtils ships with Spark; `reflect` calls it.
    No key (an unset setting substitutes to ''): fail, never hash with an empty key. -#}
{% macro pii_hash(expression) -%}
  case
      when {{ expression }} is null then null
      when '${spark.ettl.pii_hmac_key}' = '' then raise_error(
          'no PII hashing key: set DBT_ENV_SECRET_PII_HMAC_KEY (README "Sensitive data")')
      else reflect('org.apache.commons.codec.digest.HmacUtils', 'hmacSha256Hex',
                   '${spark.ettl.pii_hmac_key}', cast({{ expression }} as string))
  end
{%- endmacro %}
