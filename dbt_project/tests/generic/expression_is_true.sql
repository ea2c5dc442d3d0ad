{#- Every row satisfies a SQL boolean expression (rows where it is NULL count as failures).
    Usable on a model or, for readability, under the column it is mostly about. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not coalesce({{ expression }}, false)
{% endtest %}
