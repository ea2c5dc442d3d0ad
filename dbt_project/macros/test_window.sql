{#-
  Tests of a daily table judge the run's partition window only (overrides dbt's
  get_where_subquery, which every generic test calls on the relation it tests). So a bad row on
  one day fails, and at ERROR severity blocks gold for, the runs that build that day, not every
  later run; and a one-day run does not re-test the whole year. A test's own `where` still applies.
-#}
{% macro get_where_subquery(relation) -%}
  {%- set conditions = [] -%}
  {%- set window_column = tested_window_column() -%}
  {%- if window_column -%}
    {%- do conditions.append(in_partition_window(window_column)) -%}
  {%- endif -%}
  {%- if config.get('where') -%}
    {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
  {%- endif -%}
  {%- if conditions -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') }}
  {%- else -%}
    {{ return(relation) }}
  {%- endif -%}
{%- endmacro %}


{#- The date column of the node under test, if it is daily (partitioned by day). -#}
{% macro tested_window_column() -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set node_id = model.get('attached_node')
                    or ((model.get('depends_on') or {}).get('nodes') or [none]) | first -%}
  {%- set node = graph.nodes.get(node_id) or graph.sources.get(node_id) -%}
  {%- if node is none -%}
    {{ return(none) }}
  {%- elif node.resource_type == 'source' -%}
    {%- set daily = (node.config.meta.ettl or {}).cadence == 'daily' -%}
    {{ return(bronze_partition_column() if daily else none) }}
  {%- elif 'daily' in node.tags -%}
    {{ return(node.config.partition_by | first) }}
  {%- endif -%}
  {{ return(none) }}
{%- endmacro %}
