{#-
  Sensitive data in silver (docs/security.md). The registry declares each bronze column's
  sensitivity (`config.meta.sensitivity`); this turns a source's columns into a select list:

    public, internal  as delivered
    pii               HMAC-SHA-256 of the value (hex), named <column>_hash: joinable and
                      countable, not readable; NULL stays NULL
    restricted        dropped, unless the model lists it in `allow_restricted`

  The HMAC key never appears in SQL, logs, a command line or the repository (pii_key() below
  says where each target reads it from).
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
      {{ exceptions.raise_compiler_error(
          "bronze." ~ source_name ~ "." ~ column.name ~ ": unknown sensitivity '" ~ level ~ "'") }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(selected | join(',\n        ')) }}
{%- endmacro %}


{#- Keyed hash of one value. commons-codec's HmacUtils ships with Spark; `reflect` calls it.
    No key: fail, never hash with an empty key, nor with the text of an unset setting (Spark
    leaves `${name}` as it is when `name` is not set; written in two pieces, it is not
    substituted here). -#}
{% macro pii_hash(expression) -%}
  case
      when {{ expression }} is null then null
      when coalesce({{ pii_key() }}, '') in ('', concat('$', '{spark.ettl.pii_hmac_key}')) then raise_error(
          'no PII hashing key: set DBT_ENV_SECRET_PII_HMAC_KEY (docs/security.md)')
      else reflect('org.apache.commons.codec.digest.HmacUtils', 'hmacSha256Hex',
                   {{ pii_key() }}, cast({{ expression }} as string))
  end
{%- endmacro %}


{#- Where Spark finds the key, as an SQL expression that does not contain it.
    `local` (profiles.yml: the session method, an embedded Spark; dbt's `target` does not say
    the method, its name does): the JVM reads DBT_ENV_SECRET_PII_HMAC_KEY from its own
    environment, which it inherits from the dbt process that starts it. A session setting
    would not do: dbt-spark hands settings to pyspark before the JVM starts, and pyspark puts
    them on spark-submit's command line (`--conf k=v`), which any local user sees with `ps`
    and a JVM crash log repeats. System.getenv is not folded into a literal (reflect is
    nondeterministic), so the key is in no statement text or query plan either.
    Thrift targets: the JVM is the server's. profiles.yml sends the key as the session setting
    spark.ettl.pii_hmac_key inside the Thrift OpenSession request (no command line), and Spark
    substitutes `${...}` when it parses the statement. The setting's name must not match
    spark.redaction.regex (secret|password|token): Spark would substitute the redacted text
    instead of the key. -#}
{% macro pii_key() -%}
  {%- if target.name == 'local' -%}
    reflect('java.lang.System', 'getenv', 'DBT_ENV_SECRET_PII_HMAC_KEY')
  {%- else -%}
    '${spark.ettl.pii_hmac_key}'
  {%- endif -%}
{%- endmacro %}
