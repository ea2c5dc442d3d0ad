{#- Share of flights with a known arrival delay that arrived at most 15 minutes late (the US DOT
    on-time definition). Cancelled and diverted flights have no arrival delay and are left out;
    NULL when no flight in the group has one. -#}
{% macro on_time_arrival_rate(arr_delay_column) -%}
  count_if({{ arr_delay_column }} <= 15) / nullif(count({{ arr_delay_column }}), 0)
{%- endmacro %}
