{#-
  A daily silver model's row rules, declared once in its YAML (docs/reconciliation.md):

    config:
      meta:
        ettl:
          row_rules:
            key: [carrier_code, flight_number]   # dedupe on it: the latest ingest wins
            window_column: flight_date           # the day a row is filed under
            drops: [duplicate, outside_window, filed_under_other_day]

  `apply_row_rules(normalized)` applies them to the model's normalized rows (its SQL, as a
  string: one row per bronze row, with the bronze partition column, `_ingested_at` and
  `_source_file`), and, when the dbt step asks for it (ETTL_ROW_RULE_COUNTS_DIR), first writes
  how many rows each declared rule drops per delivery day, with the same SQL, for the ledger and
  the `rows_reconciled` test. What the model drops beyond its declaration is in no count, so the
  ledger's sum breaks.
-#}

{#- The rule names this macro can apply; ettl_assets/reconciliation/rules.py names them too (a
    unit test keeps both equal). -#}
{% macro known_row_rules() -%}
  {{ return(['duplicate', 'outside_window', 'filed_under_other_day']) }}
{%- endmacro %}


{#- The declaration of `declaring` (a graph node; the model being built by default), checked. -#}
{% macro declared_row_rules(declaring=none) -%}
  {#- A new name: in Jinja, `set node = node or ...` would read the new, undefined `node`. -#}
  {%- set node = declaring or model -%}
  {%- set declared = ((node.config.meta or {}).get('ettl') or {}).get('row_rules') -%}
  {%- if not declared -%}
    {{ exceptions.raise_compiler_error(node.name ~ ": no row_rules declared in config.meta.ettl") }}
  {%- endif -%}
  {%- set drops = declared.get('drops') or [] -%}
  {%- for rule in drops if rule not in known_row_rules() -%}
    {{ exceptions.raise_compiler_error(node.name ~ ": unknown row rule '" ~ rule
        ~ "' (known: " ~ known_row_rules() | join(', ') ~ ")") }}
  {%- endfor -%}
  {#- A daily model is written by partition: a row outside the window would replace another
      run's partition, so the window rules are not optional. -#}
  {%- if 'outside_window' not in drops or 'filed_under_other_day' not in drops
        or not declared.get('window_column') -%}
    {{ exceptions.raise_compiler_error(node.name ~ ": row_rules needs window_column and the "
        ~ "drops outside_window and filed_under_other_day") }}
  {%- endif -%}
  {%- if ('duplicate' in drops) != ((declared.get('key') or []) | length > 0) -%}
    {{ exceptions.raise_compiler_error(node.name ~ ": row_rules declares a key exactly when it "
        ~ "drops duplicate") }}
  {%- endif -%}
  {{ return({'key': declared.get('key') or [], 'window_column': declared['window_column'],
             'drops': drops}) }}
{%- endmacro %}


{#- 1 for the latest version of the row's key (latest ingest, ties on the file name). -#}
{% macro version_rank(key_columns) -%}
  row_number() over (
      partition by {{ key_columns | join(', ') }}
      order by _ingested_at desc, _source_file desc
  )
{%- endmacro %}


{% macro apply_row_rules(normalized) -%}
  {#- While parsing, the model's YAML config is not applied yet: any valid SQL, never run. -#}
  {%- if not execute -%}
    {{ return('select * from (' ~ normalized ~ ') as normalized') }}
  {%- endif -%}
  {#- A dbt unit test renders the model's SQL against its fixtures with itself as `model`, in a
      graph of its own where the model's declaration cannot be read: it checks the normalization,
      on the window's deliveries; tests/e2e/test_row_rule_counts.py checks the rules. -#}
  {%- if model.resource_type == 'unit_test' -%}
    {{ return('select * from (' ~ normalized ~ ') as normalized where '
              ~ in_partition_window(bronze_partition_column())) }}
  {%- endif -%}
  {%- set rules = declared_row_rules() -%}
  {%- do write_row_rule_counts(normalized, rules) -%}
  select * except (_version_rank)
  from (
      select
          *,
          {% if 'duplicate' in rules.drops -%}
          {{ version_rank(rules.key) }}
          {%- else %}1{% endif %} as _version_rank
      from ({{ normalized }}) as normalized
      where {{ in_partition_window(bronze_partition_column()) }}
  ) as ranked
  where _version_rank = 1
      and {{ in_partition_window(rules.window_column) }}
{%- endmacro %}


{#- Per delivery day of the window, the rows each declared rule takes from it: `duplicate` (an
    older version of a key), `outside_window` (filed under no day of the window, or under none
    at all) and `filed_under_other_day` (net: filed under another day of the window, less the
    rows other days' deliveries filed under this one). -#}
{% macro row_rule_counts_sql(normalized, rules) -%}
  {%- set delivered = bronze_partition_column() -%}
  with

  ranked as (
      select
          {{ delivered }} as delivered,
          {{ rules.window_column }} as filed,
          {% if 'duplicate' in rules.drops -%}
          {{ version_rank(rules.key) }} > 1
          {%- else %}false{% endif %} as is_duplicate
      from ({{ normalized }}) as normalized
      where {{ in_partition_window(delivered) }}
  ),

  flagged as (
      select
          delivered,
          filed,
          is_duplicate,
          not is_duplicate and coalesce({{ in_partition_window('filed') }}, false) as is_kept
      from ranked
  ),

  counted as (
      select
          delivered as day,
          cast(is_duplicate as bigint) as duplicate,
          cast(not is_duplicate and not is_kept as bigint) as outside_window,
          cast(is_kept and filed != delivered as bigint) as filed_under_other_day
      from flagged
      union all
      select filed, 0, 0, -1
      from flagged
      where is_kept and filed != delivered
  )

  select
      day,
      {%- for rule in rules.drops %}
      sum({{ rule }}) as {{ rule }}{{ ',' if not loop.last }}
      {%- endfor %}
  from counted
  group by day
{%- endmacro %}


{#- The folder of a model's counts for the ledger, in the step's directory (none: not asked). -#}
{% macro row_rule_counts_dir(model_name) -%}
  {%- set root = env_var('ETTL_ROW_RULE_COUNTS_DIR', '') if execute else '' -%}
  {{ return(root ~ '/' ~ model_name if root else none) }}
{%- endmacro %}


{% macro write_row_rule_counts(normalized, rules) -%}
  {%- set target_dir = row_rule_counts_dir(model.name) -%}
  {#- Not for a dbt unit test: its inputs are fixtures, not bronze. -#}
  {%- if target_dir and model.resource_type == 'model' -%}
    {%- call statement('row_rule_counts') -%}
      insert overwrite directory '{{ target_dir }}' using parquet
      {{ row_rule_counts_sql(normalized, rules) }}
    {%- endcall -%}
  {%- endif -%}
{%- endmacro %}
